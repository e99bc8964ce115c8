# The man pages: included by the top Makefile.am (non-recursive make, so
# every path is relative to the top source directory).  dist_man_MANS
# installs each page by its suffix, in $(mandir)/man3 or man7, and ships
# it in the tarball.  Link pages (one line, ".so man3/PAGE.3") give every
# member of a family a page of its own name.  scripts/check-man.sh checks
# that this list and man/ agree.
dist_man_MANS = \
	man/snow-rt.7 \
	man/snow_actor_exit.3 \
	man/snow_actor_hibernate.3 \
	man/snow_actor_kill.3 \
	man/snow_actor_link.3 \
	man/snow_actor_receive.3 \
	man/snow_actor_receive_key.3 \
	man/snow_actor_receive_match.3 \
	man/snow_actor_receive_tag.3 \
	man/snow_actor_register.3 \
	man/snow_actor_self.3 \
	man/snow_actor_send.3 \
	man/snow_actor_send_tag.3 \
	man/snow_actor_set_state.3 \
	man/snow_actor_set_terminate.3 \
	man/snow_actor_set_trap_exit.3 \
	man/snow_actor_spawn.3 \
	man/snow_actor_state.3 \
	man/snow_actor_trap_exit.3 \
	man/snow_actor_unlink.3 \
	man/snow_actor_whereis.3 \
	man/snow_actor_yield.3 \
	man/snow_blocking.3 \
	man/snow_errno.3 \
	man/snow_function_lookup.3 \
	man/snow_io_accept.3 \
	man/snow_io_close.3 \
	man/snow_io_connect.3 \
	man/snow_io_read.3 \
	man/snow_io_wait.3 \
	man/snow_io_write.3 \
	man/snow_job_async.3 \
	man/snow_job_await.3 \
	man/snow_job_await_timeout.3 \
	man/snow_process_demonitor.3 \
	man/snow_process_info.3 \
	man/snow_process_list.3 \
	man/snow_process_monitor.3 \
	man/snow_reduction_check.3 \
	man/snow_register_function.3 \
	man/snow_rt_handle_fault.3 \
	man/snow_rt_init_actor.3 \
	man/snow_rt_run_scheduler.3 \
	man/snow_rt_stats.3 \
	man/snow_rt_version.3 \
	man/snow_rt_version_string.3 \
	man/snow_service_call.3 \
	man/snow_service_call_timeout.3 \
	man/snow_service_reply.3 \
	man/snow_supervisor_count_children.3 \
	man/snow_supervisor_start.3 \
	man/snow_supervisor_start_child.3 \
	man/snow_supervisor_start_spec.3 \
	man/snow_supervisor_terminate_child.3 \
	man/snow_timer_send_after.3 \
	man/snow_timer_sleep.3

EXTRA_DIST += man/local.mk scripts/check-man.sh

# scripts/check-man.sh: every public function of runtime.h has a page
# that declares it as the header does, with the errnos the header names
# for it; no page for a function that is gone; mandoc -Tlint where mandoc
# is installed (scripts/check-man.sh --lint-only fails without it); the
# EXAMPLES compile.  Run by bash through its own log compiler, so that
# check-valgrind's LOG_COMPILER does not run bash under valgrind.  The
# top Makefile.am defines TESTS only when Check was found; the man pages
# need no Check, so the test is there either way.
if HAVE_CHECK
TESTS += scripts/check-man.sh
else
TESTS = scripts/check-man.sh
endif
TEST_EXTENSIONS = .sh
SH_LOG_COMPILER = bash
