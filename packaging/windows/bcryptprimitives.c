/* Test-prefix stand-in for bcryptprimitives.dll, which Wine 8.0 (Debian 12) lacks.
 * Rust's std (1.78 and later) takes its randomness from ProcessPrng in that DLL; real
 * Windows has it. This one fills the buffer from BCryptGenRandom, at most 1 GiB a call. */
#include <windows.h>
#include <bcrypt.h>

__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE out, SIZE_T len) {
    const SIZE_T max_call = 0x40000000;
    while (len > 0) {
        ULONG n = (ULONG)(len < max_call ? len : max_call);
        if (BCryptGenRandom(NULL, out, n, BCRYPT_USE_SYSTEM_PREFERRED_RNG) != 0) {
            return FALSE;
        }
        out += n;
        len -= n;
    }
    return TRUE;
}
