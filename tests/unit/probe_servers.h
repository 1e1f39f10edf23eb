/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Throwaway servers on loopback for test_probe: sockets we hold ourselves
 * (listeners, silent servers, a UDP black hole) and child processes (nginx,
 * dnsmasq, openssl) that are always stopped by PID. Children also get
 * SIGTERM if the test process dies, so a crash leaves nothing behind.
 */
#ifndef VEER_TEST_PROBE_SERVERS_H
#define VEER_TEST_PROBE_SERVERS_H

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

static uint64_t srv_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void srv_sleep_ms(unsigned int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}

/* ip is "127.0.0.1" or "::1"; fills ss and returns its length (0 if bad). */
static socklen_t srv_sockaddr(const char *ip, uint16_t port, struct sockaddr_storage *ss)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, ip, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		return sizeof(*sin);
	}
	if (inet_pton(AF_INET6, ip, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		return sizeof(*sin6);
	}
	return 0;
}

/* A bound socket of type on ip:port (0: any free port); port_out gets it. */
static int srv_bind(const char *ip, uint16_t port, int type, uint16_t *port_out)
{
	struct sockaddr_storage ss;
	socklen_t len = srv_sockaddr(ip, port, &ss);
	int one = 1, fd = socket(ss.ss_family, type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, len) || getsockname(fd, (struct sockaddr *)&ss, &len)) {
		close(fd);
		return -1;
	}
	if (port_out)
		*port_out = ntohs(((struct sockaddr_in *)&ss)->sin_port);
	return fd;
}

static int srv_listen(const char *ip, uint16_t port, int backlog, uint16_t *port_out)
{
	int fd = srv_bind(ip, port, SOCK_STREAM, port_out);

	if (fd >= 0 && listen(fd, backlog)) {
		close(fd);
		return -1;
	}
	return fd;
}

/* A port free for both TCP and UDP on ip (for dnsmasq), or 0. */
static uint16_t srv_free_port(const char *ip)
{
	for (int i = 0; i < 50; i++) {
		uint16_t port = 0;
		int t = srv_bind(ip, 0, SOCK_STREAM, &port), u = -1;

		if (t >= 0)
			u = srv_bind(ip, port, SOCK_DGRAM, NULL);
		if (t >= 0)
			close(t);
		if (u >= 0) {
			close(u);
			return port;
		}
	}
	return 0;
}

/* A blocking client connect, closed at once: true if something listens. */
static bool srv_accepts(const char *ip, uint16_t port)
{
	struct sockaddr_storage ss;
	socklen_t len = srv_sockaddr(ip, port, &ss);
	int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	bool ok = fd >= 0 && connect(fd, (struct sockaddr *)&ss, len) == 0;

	if (fd >= 0)
		close(fd);
	return ok;
}

static bool srv_wait_accepting(const char *ip, uint16_t port, unsigned int max_ms)
{
	uint64_t end = srv_now_ms() + max_ms;

	while (!srv_accepts(ip, port)) {
		if (srv_now_ms() > end)
			return false;
		srv_sleep_ms(10);
	}
	return true;
}

/* Start argv with stdout/stderr to log_path. */
static pid_t srv_spawn(char *const argv[], const char *log_path)
{
	pid_t parent = getpid(), pid = fork();

	if (pid)
		return pid;
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	if (getppid() != parent)
		_exit(126);
	int in = open("/dev/null", O_RDONLY);
	int out = open(log_path, O_WRONLY | O_CREAT | O_APPEND, 0600);

	if (in < 0 || out < 0)
		_exit(125);
	dup2(in, 0);
	dup2(out, 1);
	dup2(out, 2);
	execvp(argv[0], argv);
	_exit(127);
}

/* Wait up to max_ms for pid to exit; its status, or -1 if it is still running. */
static int srv_reap(pid_t pid, unsigned int max_ms)
{
	uint64_t end = srv_now_ms() + max_ms;
	int status;

	for (;;) {
		pid_t r = waitpid(pid, &status, WNOHANG);

		if (r == pid)
			return status;
		if (r < 0 || srv_now_ms() > end)
			return -1;
		srv_sleep_ms(5);
	}
}

static void srv_stop(pid_t pid)
{
	if (pid <= 0)
		return;
	kill(pid, SIGTERM);
	if (srv_reap(pid, 3000) == -1) {
		kill(pid, SIGKILL);
		srv_reap(pid, 3000);
	}
}

/* Run argv to completion (bounded); true on exit status 0. */
static bool srv_run(char *const argv[], const char *log_path, unsigned int max_ms)
{
	pid_t pid = srv_spawn(argv, log_path);
	int status;

	if (pid < 0)
		return false;
	status = srv_reap(pid, max_ms);
	if (status == -1) {
		srv_stop(pid);
		return false;
	}
	return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

static int srv_rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

static void srv_rm_tree(const char *dir)
{
	if (dir[0])
		nftw(dir, srv_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static bool srv_write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	bool ok = f && fputs(text, f) >= 0;

	if (f && fclose(f))
		ok = false;
	return ok;
}

/* ---- nginx: plain HTTP on 127.0.0.1 and ::1, HTTPS on 127.0.0.1 ---- */

#define SRV_BODY_OK "veer says hello"
#define SRV_BODY_VHOST "vhost here"
#define SRV_BIG_NEEDLE "needle-after-200k"

struct srv_nginx {
	pid_t pid;
	uint16_t http_port, https_port;
};

/* A file bigger than any curl buffer, the needle near its end. */
static bool srv_write_big_file(const char *dir)
{
	char path[512];
	FILE *f;
	bool ok;

	snprintf(path, sizeof(path), "%s/www/big.txt", dir);
	f = fopen(path, "w");
	if (!f)
		return false;
	for (int i = 0; i < 200 * 1024 / 64; i++)
		fprintf(f, "%063d\n", i);
	fputs(SRV_BIG_NEEDLE "\n", f);
	ok = fputs("tail\n", f) >= 0;
	return fclose(f) == 0 && ok;
}

static bool srv_make_cert(const char *dir)
{
	char key[512], cert[512], log[512];
	char *argv[] = { "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
			 "-subj", "/CN=localhost", "-days", "1", "-keyout", key, "-out", cert, NULL };

	snprintf(key, sizeof(key), "%s/key.pem", dir);
	snprintf(cert, sizeof(cert), "%s/cert.pem", dir);
	snprintf(log, sizeof(log), "%s/openssl.log", dir);
	return srv_run(argv, log, 30000);
}

static bool srv_nginx_config(const char *dir, const struct srv_nginx *n, bool ipv6)
{
	char path[512], conf[4096], v6[128] = "";

	if (ipv6)
		snprintf(v6, sizeof(v6), "listen [::1]:%u;", n->http_port);
	snprintf(conf, sizeof(conf),
		 "daemon off; master_process off; worker_processes 1;\n"
		 "error_log %1$s/error.log; pid %1$s/nginx.pid;\n"
		 "events { worker_connections 1024; }\n"
		 "http {\n"
		 " access_log off; default_type text/plain;\n"
		 " client_body_temp_path %1$s/tmp_body; proxy_temp_path %1$s/tmp_proxy;\n"
		 " fastcgi_temp_path %1$s/tmp_fcgi; uwsgi_temp_path %1$s/tmp_uwsgi;\n"
		 " scgi_temp_path %1$s/tmp_scgi;\n"
		 " ssl_certificate %1$s/cert.pem; ssl_certificate_key %1$s/key.pem;\n"
		 " server {\n"
		 "  listen 127.0.0.1:%2$u default_server; listen 127.0.0.1:%3$u ssl default_server;\n"
		 "  %4$s server_name _; root %1$s/www;\n"
		 "  location = /ok { return 200 \"" SRV_BODY_OK "\\n\"; }\n"
		 "  location = /down { return 503 \"down\\n\"; }\n"
		 "  location = /big.txt { }\n"
		 "  location / { return 404; }\n"
		 " }\n"
		 " server {\n"
		 "  listen 127.0.0.1:%2$u; listen 127.0.0.1:%3$u ssl; %4$s\n"
		 "  server_name vhost.test;\n"
		 "  location = /vhost { return 200 \"" SRV_BODY_VHOST "\\n\"; }\n"
		 " }\n"
		 "}\n",
		 dir, n->http_port, n->https_port, v6);
	snprintf(path, sizeof(path), "%s/nginx.conf", dir);
	return srv_write_file(path, conf);
}

static bool srv_nginx_start(const char *dir, bool ipv6, struct srv_nginx *n)
{
	char conf[512], log[512], www[512];
	char *argv[] = { "nginx", "-p", (char *)dir, "-c", conf, "-e", log, NULL };

	snprintf(conf, sizeof(conf), "%s/nginx.conf", dir);
	snprintf(log, sizeof(log), "%s/error.log", dir);
	snprintf(www, sizeof(www), "%s/www", dir);
	n->pid = -1;
	n->http_port = srv_free_port("127.0.0.1");
	n->https_port = srv_free_port("127.0.0.1");
	if (!n->http_port || !n->https_port || n->http_port == n->https_port ||
	    mkdir(www, 0755) || !srv_write_big_file(dir) || !srv_make_cert(dir) ||
	    !srv_nginx_config(dir, n, ipv6))
		return false;
	n->pid = srv_spawn(argv, log);
	return n->pid > 0 && srv_wait_accepting("127.0.0.1", n->http_port, 5000) &&
	       srv_wait_accepting("127.0.0.1", n->https_port, 5000);
}

/* ---- dnsmasq: example.test is 10.9.8.7, gone.test does not exist,
 * v6only.test has no A record; anything else is not its business ---- */

#define SRV_DNS_NAME "example.test"
#define SRV_DNS_GONE "gone.test"
#define SRV_DNS_V6ONLY "v6only.test"

struct srv_dnsmasq {
	pid_t pid;
	uint16_t port;
};

static bool srv_dnsmasq_start(const char *dir, const char *tag, bool ipv6, struct srv_dnsmasq *d)
{
	char port[32], log[512];
	char *argv[] = { "dnsmasq", "--no-daemon", "--conf-file=/dev/null", port,
			 "--listen-address=127.0.0.1", "--bind-interfaces", "--no-resolv",
			 "--no-hosts", "--address=/" SRV_DNS_NAME "/10.9.8.7",
			 "--address=/" SRV_DNS_GONE "/", "--local=/" SRV_DNS_V6ONLY "/",
			 "--host-record=" SRV_DNS_V6ONLY ",fd00::7",
			 ipv6 ? "--listen-address=::1" : NULL, NULL };

	d->pid = -1;
	d->port = srv_free_port("127.0.0.1");
	if (!d->port)
		return false;
	snprintf(port, sizeof(port), "--port=%u", d->port);
	snprintf(log, sizeof(log), "%s/dnsmasq-%s.log", dir, tag);
	d->pid = srv_spawn(argv, log);
	return d->pid > 0 && srv_wait_accepting("127.0.0.1", d->port, 5000);
}

#endif
