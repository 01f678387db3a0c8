/** The demo's fixed names: one browser database, one tenant, one signed-in sales manager. */
export const DEMO = {
  /** IndexedDB database name. */
  database: 'crmkit-react-board',
  tenantId: 'demo',
  /** The signed-in user: owner of the seeded deals and tasks, and whose agenda is shown. */
  owner: 'anna',
  pipelineId: 'sales',
} as const;
