// A minimal parallel-for over index ranges on std::thread, used by the denoiser and the sampler.
#pragma once

#include <algorithm>
#include <cstddef>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace geotps {

/// Number of worker threads to use for `requested` (0 = all hardware threads).
inline int resolveThreads(int requested) {
  if (requested > 0) return requested;
  return std::max(1u, std::thread::hardware_concurrency());
}

/// Calls fn(begin, end, worker) on `threads` contiguous blocks of [0, n). The first exception
/// thrown by any block is rethrown in the caller after all blocks finish.
inline void parallelFor(std::size_t n, int threads,
                        const std::function<void(std::size_t, std::size_t, int)>& fn) {
  const std::size_t t = std::max<std::size_t>(1, std::min<std::size_t>(threads, n));
  if (t == 1) {
    if (n > 0) fn(0, n, 0);
    return;
  }
  std::exception_ptr error;
  std::mutex errorMutex;
  std::vector<std::thread> pool;
  pool.reserve(t);
  for (std::size_t w = 0; w < t; ++w) {
    const std::size_t begin = n * w / t, end = n * (w + 1) / t;
    pool.emplace_back([&, begin, end, w] {
      try {
        fn(begin, end, static_cast<int>(w));
      } catch (...) {
        std::lock_guard<std::mutex> lock(errorMutex);
        if (!error) error = std::current_exception();
      }
    });
  }
  for (auto& th : pool) th.join();
  if (error) std::rethrow_exception(error);
}

}  // namespace geotps
