/*
 * bcryptprimitives.dll for Wine 8: the one export Go needs.
 *
 * Go 1.22 and later read the system's random numbers on Windows through
 * ProcessPrng in bcryptprimitives.dll, from the runtime's first steps
 * (hash seeds, crypto/rand). Wine 8 has no such export, so a Go binary
 * dies before main. This DLL gives it one, drawing from RtlGenRandom
 * (advapi32's SystemFunction036), which Wine has.
 *
 * scripts/wine-setup.sh builds it with mingw-w64 and puts it in the Wine
 * prefix's system32. It is for running the tests under Wine only; real
 * Windows has its own.
 */
#include <windows.h>
#include <ntsecapi.h> /* RtlGenRandom, that is SystemFunction036 */

/*
 * ProcessPrng fills the n bytes at out with random bytes. Windows
 * documents it as never failing; RtlGenRandom takes a ULONG count, so a
 * larger request is served in pieces.
 */
__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE out, SIZE_T n)
{
	const ULONG piece = 1UL << 30;

	while (n > 0) {
		ULONG k = n < piece ? (ULONG)n : piece;

		if (!RtlGenRandom(out, k))
			return FALSE;
		out += k;
		n -= k;
	}
	return TRUE;
}
