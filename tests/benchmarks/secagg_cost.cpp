// Secure aggregation's protocol costs for a LeNet-5-sized update (61,706 parameters, the engine's
// cnn-lenet5): bytes up and down and seconds of each step, for 10 and 50 clients, the whole round as one
// window and a SecAgg+ window, with and without dropouts. In-process: every client's work runs one after
// another on one thread, so `seconds` is the sum over clients plus the server; `client max` is the slowest
// client.
#include "privacy/SecureAggregation.h"
#include "util/Rng.h"

#include <QTextStream>

#include <cstdio>
#include <set>

using namespace fedwb;
using namespace fedwb::privacy;

int main() {
    const std::size_t size = 61706;
    QTextStream out(stdout);
    out << "| clients | num_shares | threshold | dropped | step | bytes up | bytes down | seconds | client "
           "max "
           "| server |\n|---|---|---|---|---|---|---|---|---|---|\n";
    struct Case {
        int n, shares, threshold, drops;
    };
    for (const Case c : {Case{10, 0, 0, 0}, Case{10, 0, 0, 2}, Case{50, 0, 0, 0}, Case{50, 0, 0, 5},
                         Case{50, 11, 6, 0}, Case{50, 11, 6, 5}}) {
        Rng rng(1, "bench-updates");
        std::vector<std::vector<float>> updates(std::size_t(c.n), std::vector<float>(size));
        for (auto &u : updates)
            for (float &x : u)
                x = float((2 * rng.uniform() - 1) * 0.01);
        std::vector<SecAggInput> inputs;
        for (int i = 0; i < c.n; ++i) // dropouts spread over the ring: clients 0, 10, 20, ...
            inputs.push_back({i, updates[std::size_t(i)], c.drops > 0 && i % (c.n / c.drops) == 0});
        SecAggParams p;
        p.numShares = c.shares;
        p.reconstructionThreshold = c.threshold;
        const SecAggReport r = runSecureAggregation(p, 1, 1, inputs, size);
        if (!r.ok) {
            out << "failed: " << r.failure << "\n";
            return 1;
        }
        const auto row = [&](const char *name, const SecAggStepCost &s) {
            out << "| " << c.n << " | " << r.windowSize << " | " << r.threshold << " | " << r.dropped.size()
                << " | " << name << " | " << s.bytesUp << " | " << s.bytesDown << " | "
                << QString::number(s.seconds, 'f', 3) << " | " << QString::number(s.clientSecondsMax, 'f', 4)
                << " | " << QString::number(s.serverSeconds, 'f', 3) << " |\n";
        };
        row("advertise keys", r.advertiseKeys);
        row("share keys", r.shareKeys);
        row("masked input", r.maskedInput);
        row("unmask", r.unmask);
        SecAggStepCost total;
        total.bytesUp = r.bytesUp();
        total.bytesDown = r.bytesDown();
        total.seconds = r.seconds();
        for (const SecAggStepCost *s : {&r.advertiseKeys, &r.shareKeys, &r.maskedInput, &r.unmask}) {
            total.clientSecondsMax += s->clientSecondsMax;
            total.serverSeconds += s->serverSeconds;
        }
        row("**round**", total);
        out.flush();
    }
    return 0;
}
