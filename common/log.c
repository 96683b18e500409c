#include "common/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

static struct {
	enum log_dest	 dest;
	int		 level;
	FILE		*file;
	char		 ident[32];
} logger = { LOG_DEST_STDOUT, LOG_INFO, NULL, "evpnd" };

static const char *const level_names[] = {
	"emergencies", "alerts", "critical", "errors",
	"warnings", "notifications", "informational", "debugging",
};

void
log_init(const char *ident, enum log_dest dest, const char *file, int level)
{
	log_close();
	snprintf(logger.ident, sizeof(logger.ident), "%s", ident ? ident : "evpnd");
	logger.dest = dest;
	logger.level = level;
	if (dest == LOG_DEST_FILE) {
		if ((logger.file = fopen(file, "a")) == NULL)
			logger.dest = LOG_DEST_STDOUT;
		else
			setvbuf(logger.file, NULL, _IOLBF, 0);
	} else if (dest == LOG_DEST_SYSLOG)
		openlog(logger.ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

void
log_close(void)
{
	if (logger.dest == LOG_DEST_FILE && logger.file)
		fclose(logger.file);
	else if (logger.dest == LOG_DEST_SYSLOG)
		closelog();
	logger.file = NULL;
	logger.dest = LOG_DEST_STDOUT;
}

void
log_set_level(int level)
{
	logger.level = level;
}

int
log_get_level(void)
{
	return logger.level;
}

int
log_level_parse(const char *s)
{
	for (int i = 0; i < 8; i++)
		if (strcasecmp(s, level_names[i]) == 0)
			return i;
	return -1;
}

const char *
log_level_name(int level)
{
	if (level < 0 || level > 7)
		return "unknown";
	return level_names[level];
}

void
log_vmsg(int level, const char *fmt, va_list ap)
{
	FILE *out;
	struct timespec ts;
	struct tm tm;
	char stamp[32];

	if (level > logger.level)
		return;
	if (logger.dest == LOG_DEST_SYSLOG) {
		vsyslog(level, fmt, ap);
		return;
	}
	out = logger.dest == LOG_DEST_FILE ? logger.file : stdout;
	clock_gettime(CLOCK_REALTIME, &ts);
	localtime_r(&ts.tv_sec, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
	fprintf(out, "%s.%03ld %s: ", stamp, ts.tv_nsec / 1000000, logger.ident);
	vfprintf(out, fmt, ap);
	fputc('\n', out);
	fflush(out);
}

void
log_msg(int level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(level, fmt, ap);
	va_end(ap);
}

void
fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(LOG_CRIT, fmt, ap);
	va_end(ap);
	abort();
}
