// Open MPI defines MPI_COMM_WORLD, MPI_FLOAT, MPI_SUM, MPI_IN_PLACE … as macros over
// extern structs, which Swift cannot import. These inline functions hand them to Swift.
#pragma once
#include <mpi.h>

static inline MPI_Comm shim_comm_world(void) { return MPI_COMM_WORLD; }
static inline MPI_Datatype shim_float(void) { return MPI_FLOAT; }
static inline MPI_Datatype shim_double(void) { return MPI_DOUBLE; }
static inline MPI_Datatype shim_byte(void) { return MPI_BYTE; }
static inline MPI_Datatype shim_uint64(void) { return MPI_UINT64_T; }
static inline MPI_Datatype shim_int32(void) { return MPI_INT32_T; }
static inline MPI_Op shim_op_sum(void) { return MPI_SUM; }
static inline MPI_Op shim_op_max(void) { return MPI_MAX; }
static inline MPI_Op shim_op_min(void) { return MPI_MIN; }
static inline void *shim_in_place(void) { return MPI_IN_PLACE; }
static inline MPI_Info shim_info_null(void) { return MPI_INFO_NULL; }
static inline int shim_success(void) { return MPI_SUCCESS; }
static inline int shim_comm_type_shared(void) { return MPI_COMM_TYPE_SHARED; }
static inline MPI_Comm shim_comm_null(void) { return MPI_COMM_NULL; }
static inline MPI_Status *shim_status_ignore(void) { return MPI_STATUS_IGNORE; }
static inline MPI_Win shim_win_null(void) { return MPI_WIN_NULL; }
static inline int shim_mode_nocheck(void) { return MPI_MODE_NOCHECK; }
static inline MPI_Status *shim_statuses_ignore(void) { return MPI_STATUSES_IGNORE; }
static inline MPI_Datatype shim_datatype_null(void) { return MPI_DATATYPE_NULL; }
