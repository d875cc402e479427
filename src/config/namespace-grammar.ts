/** The OCI namespace grammar: lower-case path components joined by `/` (repository keys, remote URL paths). */
export const NAMESPACE = /^[a-z0-9]+(?:[._-][a-z0-9]+)*(?:\/[a-z0-9]+(?:[._-][a-z0-9]+)*)*$/;
