# SNOW_CHECK_PTHREAD
# ------------------
# Find how this compiler builds threaded code: -pthread where it is
# understood (it also sets the preprocessor up for threads), else
# -lpthread, else nothing (a libc with threads built in).  Sets and
# substitutes PTHREAD_CFLAGS and PTHREAD_LIBS, or fails naming the problem.
AC_DEFUN([SNOW_CHECK_PTHREAD], [
  AC_CACHE_CHECK([how to build with POSIX threads], [snow_cv_pthread], [
    snow_cv_pthread=unsupported
    snow_save_CFLAGS=$CFLAGS
    snow_save_LIBS=$LIBS
    for snow_flag in -pthread -lpthread none; do
      CFLAGS=$snow_save_CFLAGS
      LIBS=$snow_save_LIBS
      AS_CASE([$snow_flag],
        [-l*], [LIBS="$snow_flag $LIBS"],
        [none], [],
        [CFLAGS="$CFLAGS $snow_flag"; LIBS="$snow_flag $LIBS"])
      AC_LINK_IFELSE([AC_LANG_PROGRAM([[#include <pthread.h>
static void *run(void *arg) { return arg; }]],
          [[pthread_t t;
            if (pthread_create(&t, 0, run, 0)) return 1;
            return pthread_join(t, 0);]])],
        [snow_cv_pthread=$snow_flag; break])
    done
    CFLAGS=$snow_save_CFLAGS
    LIBS=$snow_save_LIBS
  ])
  AS_CASE([$snow_cv_pthread],
    [unsupported], [AC_MSG_ERROR([cannot link a POSIX threads program; install the Debian package libc6-dev])],
    [none], [PTHREAD_CFLAGS=; PTHREAD_LIBS=],
    [-l*], [PTHREAD_CFLAGS=; PTHREAD_LIBS=$snow_cv_pthread],
    [PTHREAD_CFLAGS=$snow_cv_pthread; PTHREAD_LIBS=$snow_cv_pthread])
  AC_SUBST([PTHREAD_CFLAGS])
  AC_SUBST([PTHREAD_LIBS])
])
