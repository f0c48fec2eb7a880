/** A device's published Signal keys, as the pre-key bundle query returns them. */
export interface KeyBundle {
  registrationId: number;
  identityKey: Buffer;
  signedPreKey: { id: number; public: Buffer; signature: Buffer };
  preKey?: { id: number; public: Buffer };
}
