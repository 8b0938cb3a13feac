// What the extension exports to tests and to other extensions.
export interface FieldtraceApi {
  /** Resolves once the language server answered `initialize` (rejects if it could not start). */
  serverReady(): Promise<{ serverName: string; serverVersion: string }>;
}
