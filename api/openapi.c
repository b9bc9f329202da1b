/* api/openapi.yaml, built into the binary so that /v1/openapi.yaml always matches the
 * server that serves it. */
#include "openapi.h"

__asm__(".section .rodata\n"
	".global api_openapi_yaml\n"
	"api_openapi_yaml:\n"
	".incbin \"api/openapi.yaml\"\n"
	".global api_openapi_yaml_end\n"
	"api_openapi_yaml_end:\n"
	".byte 0\n"
	".previous\n");
