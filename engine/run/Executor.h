// Executors run a round's client tasks and hand back their results. The LocalExecutor trains on this
// machine's thread pool; a remote executor ships the same tasks to workers. Torch-free.
#pragma once

#include "train/ClientTask.h"

#include <functional>
#include <vector>

namespace fedwb {

class Executor {
public:
    virtual ~Executor() = default;
    // Called as each task completes, from the thread that called run(), with the task's index; `done` counts
    // the results so far. Results may arrive in any order: the caller combines them by index.
    using Sink = std::function<void(std::size_t index, ClientResult &&result, int done)>;
    // Runs every task; blocks until all have a result (or the run is cancelled: unfinished tasks then come
    // back with status Stopped). Throws on an internal failure.
    virtual void run(const std::vector<ClientTask> &tasks, const Sink &sink) = 0;
    // Thread-safe: unfinished tasks stop at their next mini-batch.
    virtual void cancel() = 0;
    virtual QString describe() const = 0; // "local: 2 threads"
};

} // namespace fedwb
