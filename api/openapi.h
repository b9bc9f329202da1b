/* The OpenAPI description (api/openapi.yaml) embedded at build time. */
#ifndef DNSBL_API_OPENAPI_H
#define DNSBL_API_OPENAPI_H

/* The file's bytes, from api_openapi_yaml up to api_openapi_yaml_end (static). */
extern const char api_openapi_yaml[];
extern const char api_openapi_yaml_end[];

#endif
