import type { ChangeDeps } from '#shared/changes/change-request.ts'
import { buildGraph, type Graph } from '#shared/composition/graph.ts'
import type { Settings } from '#shared/composition/settings.ts'

/** The drift check's dependencies, picked from the process's graph: the change path. */
export function driftDepsFrom(graph: Graph, overrides: Partial<ChangeDeps> = {}): ChangeDeps {
  return { ...graph.changeDeps(graph.logger.child({ component: 'drift' })), ...overrides }
}

/** The drift check's dependencies on a graph of their own (tests). */
export function buildDriftDeps(
  settings: Settings,
  overrides: Partial<ChangeDeps> = {},
): ChangeDeps {
  const { now, logger } = overrides
  return driftDepsFrom(buildGraph(settings, { now, logger }), overrides)
}
