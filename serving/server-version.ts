/** The version vigil reports (OIP server metadata, the OpenAPI documents). */
export const SERVER_VERSION = '0.1.0';
