#!/bin/sh
# Print the package version, MAJOR.MINOR.PATCH, from the three
# SNOW_RT_VERSION_ macros of the public header: configure.ac's AC_INIT
# takes it from here, so the header is the one place a version is written.
# Run from the top of the source tree (autoconf does), or give it.
top=${1:-.}
awk '/^#define[ \t]+SNOW_RT_VERSION_(MAJOR|MINOR|PATCH)[ \t]/ { v[$2] = $3 }
END {
	if (!("SNOW_RT_VERSION_MAJOR" in v) || !("SNOW_RT_VERSION_MINOR" in v) ||
	    !("SNOW_RT_VERSION_PATCH" in v)) {
		print "version.sh: SNOW_RT_VERSION_* missing from include/snow/runtime.h" > "/dev/stderr"
		exit 1
	}
	printf "%d.%d.%d", v["SNOW_RT_VERSION_MAJOR"], v["SNOW_RT_VERSION_MINOR"], v["SNOW_RT_VERSION_PATCH"]
}' "$top/include/snow/runtime.h"
