// This process's memory, for the benchmarks' reports: resident now and its peak, in MB.
#ifndef RACT_TOOLS_RSS_H_
#define RACT_TOOLS_RSS_H_

// Resident MB now (VmRSS of /proc/self/status; 0 where it cannot be read).
double ract_rss_now_mb(void);
// Peak resident MB so far (getrusage's ru_maxrss).
double ract_rss_peak_mb(void);

#endif  // RACT_TOOLS_RSS_H_
