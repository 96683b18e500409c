/*
 * The service manager's notify protocol (common/notify.h) against a
 * real AF_UNIX datagram socket, as systemd listens on one: a path and
 * an abstract name, no manager, a bad address.  Then evpnd itself, run
 * from the build directory (./evpnd, as "make check" runs in it) with
 * NOTIFY_SOCKET set: READY=1 arrives only once its API socket answers,
 * RELOADING=1 and READY=1 frame a SIGHUP, STOPPING=1 follows SIGTERM,
 * and a start that fails sends no READY=1.
 */
#include <check.h>
#include <errno.h>
#include <ftw.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/notify.h"

#define EVPND_BIN		"./evpnd"
#define READY_TIMEOUT_MS	30000	/* a sanitizer build starts slowly */

static char dir[64];

static void
setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/evpnd-test-notify.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
}

static int
rm_entry(const char *path, const struct stat *st, int flag, struct FTW *f)
{
	return remove(path);
}

static void
teardown(void)
{
	nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* A datagram socket bound to name: a path, or "@name" abstract. */
static int
listen_dgram(const char *name)
{
	struct sockaddr_un sun;
	size_t n = strlen(name);
	int fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	ck_assert_uint_lt(n, sizeof(sun.sun_path));
	memcpy(sun.sun_path, name, n);
	if (name[0] == '@')
		sun.sun_path[0] = '\0';
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(fd, 0);
	ck_assert_msg(bind(fd, (struct sockaddr *)&sun,
	    (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n)) == 0,
	    "bind %s: %s", name, strerror(errno));
	return fd;
}

/* One datagram as a string, or NULL after timeout_ms. */
static const char *
recv_msg(int fd, int timeout_ms)
{
	static char buf[512];
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	ssize_t n;

	if (poll(&pfd, 1, timeout_ms) != 1)
		return NULL;
	if ((n = recv(fd, buf, sizeof(buf) - 1, 0)) < 0)
		return NULL;
	buf[n] = '\0';
	return buf;
}

START_TEST(test_path_socket)
{
	char name[128];
	int fd;

	snprintf(name, sizeof(name), "%s/notify", dir);
	fd = listen_dgram(name);
	setenv("NOTIFY_SOCKET", name, 1);
	ck_assert_int_eq(service_notify("READY=1"), 0);
	ck_assert_str_eq(recv_msg(fd, 1000), "READY=1");
	ck_assert_int_eq(service_notify("STATUS=a\nSTOPPING=1"), 0);
	ck_assert_str_eq(recv_msg(fd, 1000), "STATUS=a\nSTOPPING=1");
	close(fd);
}
END_TEST

START_TEST(test_abstract_socket)
{
	char name[64];
	int fd;

	snprintf(name, sizeof(name), "@evpnd-test-notify-%d", (int)getpid());
	fd = listen_dgram(name);
	setenv("NOTIFY_SOCKET", name, 1);
	ck_assert_int_eq(service_notify("READY=1"), 0);
	ck_assert_str_eq(recv_msg(fd, 1000), "READY=1");
	close(fd);
}
END_TEST

START_TEST(test_no_manager_sends_nothing)
{
	unsetenv("NOTIFY_SOCKET");
	ck_assert_int_eq(service_notify("READY=1"), 0);
	setenv("NOTIFY_SOCKET", "", 1);
	ck_assert_int_eq(service_notify("READY=1"), 0);
}
END_TEST

START_TEST(test_bad_address_fails)
{
	char name[128];

	setenv("NOTIFY_SOCKET", "relative/notify", 1);
	errno = 0;
	ck_assert_int_eq(service_notify("READY=1"), -1);
	ck_assert_int_eq(errno, EINVAL);
	snprintf(name, sizeof(name), "%s/nobody-listens", dir);
	setenv("NOTIFY_SOCKET", name, 1);
	ck_assert_int_eq(service_notify("READY=1"), -1);
}
END_TEST

/* Runs ./evpnd on a minimal config; NOTIFY_SOCKET set for it only. */
static pid_t
evpnd_spawn(const char *notify, const char *sock)
{
	char conf[128], state[128];
	FILE *f;
	pid_t pid;

	ck_assert_msg(access(EVPND_BIN, X_OK) == 0,
	    "no %s in the working directory (run from the build dir)",
	    EVPND_BIN);
	snprintf(conf, sizeof(conf), "%s/evpnd.conf", dir);
	snprintf(state, sizeof(state), "%s/state", dir);
	ck_assert_ptr_nonnull(f = fopen(conf, "w"));
	fprintf(f, "log stdout warnings\nrouter bgp 65000\n"
	    " bgp router-id 10.0.0.1\n bgp listen-port 0\n");
	ck_assert_int_eq(fclose(f), 0);
	ck_assert_int_ge(pid = fork(), 0);
	if (pid == 0) {
		setenv("NOTIFY_SOCKET", notify, 1);
		execl(EVPND_BIN, "evpnd", "-f", conf, "-S", sock, "-D", state,
		    (char *)NULL);
		_exit(127);
	}
	return pid;
}

/* An HTTP request on the control socket; true on a 200 answer. */
static bool
api_answers(const char *sock)
{
	static const char req[] = "GET /v1/bgp/summary HTTP/1.0\r\n\r\n";
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	char buf[256];
	ssize_t n;
	bool ok;
	int fd;

	if (strlen(sock) >= sizeof(sun.sun_path))
		return false;
	memcpy(sun.sun_path, sock, strlen(sock) + 1);
	if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) == -1)
		return false;
	ok = connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0 &&
	    write(fd, req, sizeof(req) - 1) == (ssize_t)(sizeof(req) - 1) &&
	    (n = read(fd, buf, sizeof(buf) - 1)) > 0;
	if (ok) {
		buf[n] = '\0';
		ok = strncmp(buf, "HTTP/1.", 7) == 0 &&
		    strncmp(buf + 8, " 200", 4) == 0;
	}
	close(fd);
	return ok;
}

static int
wait_exit(pid_t pid)
{
	int status;

	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status), "evpnd died of signal %d",
	    WTERMSIG(status));
	return WEXITSTATUS(status);
}

START_TEST(test_evpnd_ready_reload_stop)
{
	char notify[128], sock[128];
	const char *msg;
	pid_t pid;
	int fd;

	snprintf(notify, sizeof(notify), "%s/notify", dir);
	snprintf(sock, sizeof(sock), "%s/run/evpnd.sock", dir);
	fd = listen_dgram(notify);
	pid = evpnd_spawn(notify, sock);

	msg = recv_msg(fd, READY_TIMEOUT_MS);
	ck_assert_msg(msg != NULL, "no READY=1 within %d ms",
	    READY_TIMEOUT_MS);
	ck_assert_str_eq(msg, "READY=1");
	/* Ready means serving: the API answers at once, no retry. */
	ck_assert_msg(api_answers(sock), "READY=1 before the API answers");

	ck_assert_int_eq(kill(pid, SIGHUP), 0);
	msg = recv_msg(fd, READY_TIMEOUT_MS);
	ck_assert_ptr_nonnull(msg);
	ck_assert_msg(strncmp(msg, "RELOADING=1\nMONOTONIC_USEC=", 27) == 0,
	    "got '%s' after SIGHUP", msg);
	msg = recv_msg(fd, READY_TIMEOUT_MS);
	ck_assert_ptr_nonnull(msg);
	ck_assert_str_eq(msg, "READY=1");

	ck_assert_int_eq(kill(pid, SIGTERM), 0);
	msg = recv_msg(fd, READY_TIMEOUT_MS);
	ck_assert_ptr_nonnull(msg);
	ck_assert_str_eq(msg, "STOPPING=1");
	ck_assert_int_eq(wait_exit(pid), 0);
	ck_assert_ptr_null(recv_msg(fd, 0));
	close(fd);
}
END_TEST

/* The socket's directory cannot be made (a file is in the way). */
START_TEST(test_evpnd_failed_start_not_ready)
{
	char notify[128], sock[128], blocker[128];
	FILE *f;
	pid_t pid;
	int fd;

	snprintf(notify, sizeof(notify), "%s/notify", dir);
	snprintf(blocker, sizeof(blocker), "%s/run", dir);
	snprintf(sock, sizeof(sock), "%s/run/evpnd.sock", dir);
	ck_assert_ptr_nonnull(f = fopen(blocker, "w"));
	fclose(f);
	fd = listen_dgram(notify);
	pid = evpnd_spawn(notify, sock);
	ck_assert_int_eq(wait_exit(pid), 1);
	ck_assert_ptr_null(recv_msg(fd, 0));
	close(fd);
}
END_TEST

static Suite *
notify_suite(void)
{
	Suite *s = suite_create("notify");
	TCase *proto = tcase_create("protocol");
	TCase *daemon = tcase_create("evpnd");

	tcase_add_checked_fixture(proto, setup, teardown);
	tcase_add_test(proto, test_path_socket);
	tcase_add_test(proto, test_abstract_socket);
	tcase_add_test(proto, test_no_manager_sends_nothing);
	tcase_add_test(proto, test_bad_address_fails);
	suite_add_tcase(s, proto);
	tcase_add_checked_fixture(daemon, setup, teardown);
	tcase_set_timeout(daemon, 120);
	tcase_add_test(daemon, test_evpnd_ready_reload_stop);
	tcase_add_test(daemon, test_evpnd_failed_start_not_ready);
	suite_add_tcase(s, daemon);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(notify_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
