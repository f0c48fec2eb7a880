export { WaEmulator, type WaEmulatorOptions } from './wa-emulator.server.js';
export { EmulatorError } from './emulator-error.js';
export { type EmulatorControl, type FaultKind } from './control-api.routes.js';
export { EmulatorStateStore, STATE_FILE_NAME } from './emulator-state.store.js';
export { parsePairingQr, type PairingQr } from './emulated-phone.js';
export { TEST_ROOT_PUBLIC_KEY, TEST_ROOT_SERIAL } from './test-root-key.js';
export { createMediaTlsIdentity, type MediaTlsIdentity } from './media-tls.js';
