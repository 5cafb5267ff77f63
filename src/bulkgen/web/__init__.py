"""Server-rendered pages: batch history, the new-batch form and the live progress view."""
