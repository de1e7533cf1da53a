/** Reads vigil's error body into a stable code and a sentence (contract/control/client.ts). */
export { readApiError } from '../../contract/control/client';
