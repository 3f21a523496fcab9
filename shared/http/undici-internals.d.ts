// Types for the undici internals imported by undici-runtime.ts (typed there, from the main entry).
declare module 'undici/lib/dispatcher/agent.js' {
  const Agent: unknown
  export default Agent
}
declare module 'undici/lib/dispatcher/dispatcher.js' {
  const Dispatcher: { prototype: object }
  export default Dispatcher
}
declare module 'undici/lib/dispatcher/pool.js' {
  const Pool: unknown
  export default Pool
}
declare module 'undici/lib/api/index.js' {
  const api: object
  export default api
}
declare module 'undici/lib/core/connect.js' {
  const buildConnector: unknown
  export default buildConnector
}
