// OpenBLAS's CBLAS interface (cblas_sgemm, cblas_dgemm, openblas_set_num_threads …).
#pragma once
#include <cblas.h>
