/* LD_PRELOAD shim for Linphone on a loopback-only test bed.
 *
 * liblinphone 5.1 gathers ICE host candidates from getifaddrs() (skipping loopback interfaces)
 * plus the address that routes to a public IP (bctbx_get_local_ip_for). On a machine with an
 * ethernet interface that offers that interface's addresses, never 127.0.0.1, so media and ICE
 * checks would leave loopback. This shim hides every interface and says the local address is
 * 127.0.0.1 (IPv4) / none (IPv6): Linphone's only ICE host candidate becomes 127.0.0.1.
 *
 * Build: cc -shared -fPIC -O2 -o loopback-only.so loopback-only.c
 * Use:   LD_PRELOAD=/path/loopback-only.so linphonec ...
 */
#define _GNU_SOURCE
#include <ifaddrs.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>

int getifaddrs(struct ifaddrs **ifap) {
	*ifap = NULL;
	return 0;
}

void freeifaddrs(struct ifaddrs *ifa) {
	(void)ifa;
}

int bctbx_get_local_ip_for(int type, const char *dest, int port, char *result, size_t result_len) {
	(void)dest; (void)port;
	if (type == AF_INET) {
		strncpy(result, "127.0.0.1", result_len);
		return 0;
	}
	strncpy(result, "::1", result_len);
	return -1;
}
