/**
 * A registry problem that is the user's to fix (a missing, corrupted or still-used artifact):
 * the CLI exits 2 for it, as for a config error. In a file of its own so that the CLI can tell it
 * apart without loading ONNX Runtime.
 */
export class ArtifactError extends Error {}
