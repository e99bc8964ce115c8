/*
 * The version of the library actually loaded.  The numbers are the
 * header's as this library was compiled, so a program compares them
 * with the SNOW_RT_VERSION_* it was built with; configure takes the
 * package version from the same three macros (configure.ac), so the
 * two cannot disagree.
 */
#include "config.h"

#include <snow/runtime.h>

#define STR_(x)	#x
#define STR(x)	STR_(x)

uint32_t
snow_rt_version(void)
{
	return SNOW_RT_VERSION_HEX;
}

const char *
snow_rt_version_string(void)
{
	return STR(SNOW_RT_VERSION_MAJOR) "." STR(SNOW_RT_VERSION_MINOR) "."
	    STR(SNOW_RT_VERSION_PATCH);
}
