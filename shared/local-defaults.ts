/**
 * Credentials and ports shared by `npm start`, the emulator and the tests when nothing else is
 * configured. They only ever unlock the local emulator; the real service never accepts them.
 */
export const LOCAL_DEFAULTS = {
  accessKeyId: 'LTAIlocalEmulatorKey',
  accessKeySecret: 'local-emulator-secret-do-not-use-in-production',
  emulatorPort: 8081,
  apiPort: 8080,
  receiverPort: 8082,
} as const
