/** Docs whose examples render React into a DOM: run by docs-dom.test.ts in jsdom. */
export const domDocs = ['packages/react-hooks/README.md'];
