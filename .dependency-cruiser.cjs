/**
 * The layers, and the one way imports point (checked by `npm run lint:deps`, in CI):
 *   functions/* (Lambda entry points: a handler picks from the graph) → shared/composition
 *   shared/composition (the front door: reads the environment, holds every default, builds the
 *     stores, clients and services) → the domain and the adapters
 *   shared/store (DynamoDB adapters: I/O only) → the ports and types they implement
 *   shared/* (the domain: rules, state transitions, ports, narrow settings types) → never an
 *     adapter, never the composition root
 * No cycles anywhere.
 */
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'A module that imports itself through others: split it, or move what both need.',
      from: { path: '^(shared|functions|infra|scripts)/' },
      to: { circular: true },
    },
    {
      name: 'domain-not-to-adapters',
      severity: 'error',
      comment:
        'The domain speaks to the store through ports (interfaces beside the domain that owns them); only the wiring picks the DynamoDB adapters.',
      from: { path: '^shared/', pathNot: '^shared/(store|composition)/' },
      to: { path: '^shared/store/' },
    },
    {
      name: 'domain-not-to-composition',
      severity: 'error',
      comment:
        'The domain takes its settings as narrow types it owns; only the composition root reads the environment, parses the configuration and builds the graph.',
      from: { path: '^shared/', pathNot: '^shared/composition/' },
      to: { path: '^shared/composition/' },
    },
    {
      name: 'shared-not-to-programs',
      severity: 'error',
      comment:
        'shared/ is what the programs share: it never imports a program, the emulator or the tests.',
      from: { path: '^shared/' },
      to: { path: '^(functions|infra|scripts|bench|test|clients)/' },
    },
    {
      name: 'functions-to-shared-only',
      severity: 'error',
      comment:
        'A Lambda bundle takes only shared/ and its own folder: never the emulator, the local runner or tests.',
      from: { path: '^functions/' },
      // The schedules file is deploy-time data: the template makes the events from it, and the
      // sync function checks an event against it.
      to: {
        path: '^(infra|scripts|bench|test|clients)/',
        pathNot: '^infra/sync-schedules\\.json$',
      },
    },
    {
      name: 'functions-pick-from-the-graph',
      severity: 'error',
      comment:
        'A function picks its parts from the graph the composition root builds: it never builds a store or a client itself.',
      from: { path: '^functions/' },
      to: { path: '^shared/store/', dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'functions-apart',
      severity: 'error',
      comment: 'Each function is its own program: what two of them need lives in shared/.',
      from: { path: '^functions/([^/]+)/' },
      to: { path: '^functions/([^/]+)/', pathNot: '^functions/$1/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^|/)node_modules/|\\.test\\.ts$|\\.d\\.ts$' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default'],
      extensions: ['.ts', '.js', '.mjs', '.cjs'],
    },
  },
}
