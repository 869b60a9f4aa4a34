// A monotonic clock for timings in logs, reports and benchmarks (never for results).
#ifndef RACT_CORE_CLOCK_H_
#define RACT_CORE_CLOCK_H_

#ifdef __cplusplus
extern "C" {
#endif

// Seconds since an arbitrary start, monotonic.
double ract_clock_seconds(void);

#ifdef __cplusplus
}  // extern "C"
#endif

#endif  // RACT_CORE_CLOCK_H_
