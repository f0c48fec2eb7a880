/**
 * Preload for processes that talk to the WhatsApp network emulator, never for production:
 * `NODE_OPTIONS="--import /abs/path/libs/wa-emulator/dist/preload.js"`. Baileys reads
 * `WA_CERT_DETAILS` (root public key and issuer serial) on every Noise handshake; swapping both
 * for the emulator's test root makes the emulator's certificate chain pass, and nothing else about
 * Baileys changes.
 */
import { WA_CERT_DETAILS } from '@whiskeysockets/baileys';
import { TEST_ROOT_PUBLIC_KEY, TEST_ROOT_SERIAL } from './test-root-key.js';

WA_CERT_DETAILS.PUBLIC_KEY = Buffer.from(TEST_ROOT_PUBLIC_KEY);
WA_CERT_DETAILS.SERIAL = TEST_ROOT_SERIAL;
