// Engine-internal: run `tasks` jobs on `threads` worker threads, each with one intra-op torch thread, so that
// every job computes exactly what it would compute alone. The calling thread waits and reports progress.
#pragma once

#include <ATen/Parallel.h>

#include <atomic>
#include <condition_variable>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace fedwb {

// job(task, worker) runs on a worker thread; progress(done) runs on the calling thread after jobs finish.
inline void runParallel(int tasks, int threads, const std::function<void(int, int)> &job,
                        const std::function<void(int)> &progress = {}) {
    if (tasks <= 0) return;
    threads = std::max(1, std::min(threads, tasks));
    std::atomic<int> next{0};
    std::mutex mutex;
    std::condition_variable changed;
    int done = 0, exited = 0;
    std::exception_ptr failure;
    auto worker = [&](int w) {
        at::set_num_threads(1);
        for (;;) {
            const int t = next.fetch_add(1);
            if (t >= tasks) break;
            std::exception_ptr error;
            try {
                job(t, w);
            } catch (...) {
                error = std::current_exception();
                next.store(tasks); // no new jobs after a failure
            }
            {
                std::lock_guard lock(mutex);
                if (error && !failure) failure = error;
                ++done;
            }
            changed.notify_one();
        }
        {
            std::lock_guard lock(mutex);
            ++exited;
        }
        changed.notify_one();
    };
    std::vector<std::thread> pool;
    for (int w = 0; w < threads; ++w)
        pool.emplace_back(worker, w);
    {
        std::unique_lock lock(mutex);
        int reported = 0;
        for (;;) {
            changed.wait(lock, [&] { return done > reported || exited == threads; });
            const int now = done;
            if (now > reported && progress && !failure) {
                lock.unlock();
                std::exception_ptr error;
                try {
                    for (int k = reported + 1; k <= now; ++k)
                        progress(k);
                } catch (...) { // the workers must be joined before the exception may leave
                    error = std::current_exception();
                    next.store(tasks);
                }
                lock.lock();
                if (error && !failure) failure = error;
            }
            reported = now;
            if (exited == threads && reported == done) break;
        }
    }
    for (auto &t : pool)
        t.join();
    if (failure) std::rethrow_exception(failure);
}

} // namespace fedwb
