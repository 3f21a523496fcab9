// Turns infra/sync-schedules.json into EventBridge schedule events for the sync function.
// serverless.yml reads it with ${file(./infra/sync-events.cjs):events}. The event id and time are
// passed through an input transformer, so the id can serve as the idempotency key.
const { schedules } = require('./sync-schedules.json')

module.exports.events = () =>
  schedules
    .filter((schedule) => schedule.enabled !== false)
    .map((schedule) => ({
      schedule: {
        name: `\${self:service}-\${sls:stage}-${schedule.name}`.slice(0, 64),
        description: `domain-gateway sync: ${schedule.name}`,
        rate: [schedule.schedule],
        inputTransformer: {
          inputPathsMap: { id: '$.id', time: '$.time' },
          inputTemplate: `{"id": <id>, "time": <time>, "schedule": ${JSON.stringify(schedule.name)}}`,
        },
      },
    }))
