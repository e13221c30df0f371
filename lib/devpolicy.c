/* devpolicy.c - shapes and allow-lists of the device parameters a peer
 * sends (see devpolicy.h). */
#include <string.h>

#include "devpolicy.h"

static bool
dp_namech(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	    c == '.' || c == '-' || c == '_';
}

static bool
dp_name_ok(const char *s, size_t n, size_t max)
{
	size_t i;

	if (n == 0 || n >= max || (n == 1 && s[0] == '.') ||
	    (n == 2 && s[0] == '.' && s[1] == '.'))
		return false;
	for (i = 0; i < n; i++)
		if (!dp_namech(s[i]))
			return false;
	return true;
}

bool
dp_ifname_ok(const char *s, size_t n)
{
	return dp_name_ok(s, n, DP_IFNAME_MAX);
}

bool
dp_script_ok(const char *s, size_t n)
{
	return dp_name_ok(s, n, DP_SCRIPT_MAX) && s[0] != '.';
}

static bool
dp_printable(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] <= ' ' || (unsigned char)s[i] >= 0x7f)
			return false;
	return true;
}

bool
dp_path_clean(const char *s, size_t n)
{
	size_t i = 0;

	if (n == 0 || n >= DP_PARAMS_MAX || s[0] != '/' || !dp_printable(s, n))
		return false;
	/* Each component between slashes: not empty (except a final '/'),
	 * not "." or "..". */
	while (i < n) {
		size_t j = i + 1, len;

		while (j < n && s[j] != '/')
			j++;
		len = j - i - 1;
		if ((len == 0 && j < n) || (len == 1 && s[i + 1] == '.') ||
		    (len == 2 && s[i + 1] == '.' && s[i + 2] == '.'))
			return false;
		i = j;
	}
	return true;
}

bool
dp_params_ok(const char *s, size_t n)
{
	if (n == 0 || n >= DP_PARAMS_MAX || !dp_printable(s, n))
		return false;
	return s[0] != '/' || dp_path_clean(s, n);
}

/* The next space-separated word of *list, advancing it; n = 0 at the end. */
static const char *
dp_next(const char **list, size_t *n)
{
	const char *p = *list, *w;

	while (*p == ' ' || *p == '\t')
		p++;
	w = p;
	while (*p != '\0' && *p != ' ' && *p != '\t')
		p++;
	*n = (size_t)(p - w);
	*list = p;
	return w;
}

bool
dp_listed(const char *list, const char *word)
{
	size_t n, wl = strlen(word);
	const char *w;

	while (w = dp_next(&list, &n), n > 0)
		if (n == wl && memcmp(w, word, n) == 0)
			return true;
	return false;
}

bool
dp_disk_allowed(const char *list, const char *params)
{
	size_t n, pl = strlen(params);
	const char *w;

	if (!dp_params_ok(params, pl))
		return false;
	while (w = dp_next(&list, &n), n > 0) {
		if (w[n - 1] == '/' ? pl > n && memcmp(w, params, n) == 0 :
		    pl == n && memcmp(w, params, n) == 0)
			return true;
	}
	return false;
}

bool
dp_words_ok(const char *list, bool (*ok)(const char *, size_t), const char **bad,
    size_t *badlen)
{
	size_t n;
	const char *w;

	while (w = dp_next(&list, &n), n > 0)
		if (!ok(w, n)) {
			*bad = w;
			*badlen = n;
			return false;
		}
	return true;
}
