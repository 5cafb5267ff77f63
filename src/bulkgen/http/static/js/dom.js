// @ts-check
/**
 * Small DOM builders for the progress view. Generated text is untrusted: string children
 * always go in as text nodes, never as HTML.
 * @module dom
 */

/**
 * An element whose string children are inserted as text.
 * @param {string} tag
 * @param {string} className
 * @param {...(Node | string)} children
 * @returns {HTMLElement}
 */
export function element(tag, className, ...children) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  node.append(...children);
  return node;
}

/**
 * One term and its value in a `<dl>` grid; `role` names the value for scripts and tests.
 * @param {string} term
 * @param {string} value
 * @param {string} role
 * @returns {HTMLElement}
 */
export function fact(term, value, role) {
  const dd = element("dd", "", value);
  dd.dataset.role = role;
  return element("div", "", element("dt", "", term), dd);
}
