/*
 * Logging: one process-wide handle (the only global besides the event
 * base).  Levels are syslog's.  Destination is stdout (with timestamps),
 * syslog, or a file, as the config's "log" statement says.
 */
#ifndef COMMON_LOG_H
#define COMMON_LOG_H

#include <stdarg.h>
#include <syslog.h>

enum log_dest {
	LOG_DEST_STDOUT,
	LOG_DEST_SYSLOG,
	LOG_DEST_FILE,
};

void	log_init(const char *ident, enum log_dest, const char *file, int level);
void	log_set_level(int level);
int	log_get_level(void);
/* Parse "emergencies".."debugging" / "errors" / "informational" etc. */
int	log_level_parse(const char *);
const char *log_level_name(int);
void	log_close(void);

void	log_msg(int level, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
void	log_vmsg(int level, const char *fmt, va_list);

#define log_err(...)	log_msg(LOG_ERR, __VA_ARGS__)
#define log_warn(...)	log_msg(LOG_WARNING, __VA_ARGS__)
#define log_notice(...)	log_msg(LOG_NOTICE, __VA_ARGS__)
#define log_info(...)	log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...)	log_msg(LOG_DEBUG, __VA_ARGS__)

/* Broken internal invariant: log and abort.  Never for peer input. */
void	fatalx(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2), noreturn));

#endif
