/* Build-only stand-in for FFTW's header.
 *
 * fastmel never calls FFTW by name: it reaches FFTW through pyFFTW's Cython
 * API (FFTW.get_fftw_exe), and pyFFTW's wheel carries the FFTW libraries but
 * not fftw3.h.  The declarations Cython emits for the cimported pyFFTW types
 * only need the guru-interface dimension struct, declared here with FFTW's
 * layout.  Nothing is linked against FFTW directly.
 */
#ifndef FASTMEL_FFTW3_SHIM_H
#define FASTMEL_FFTW3_SHIM_H

typedef struct {
    int n;
    int is;
    int os;
} fftw_iodim;

#endif
