#include "data/Partitioner.h"

#include "data/DatasetFacts.h"
#include "spec/FederationSpec.h"
#include "spec/Registry.h"
#include "util/Rng.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>

namespace fedwb {

namespace {

using Assignment = std::vector<std::vector<std::int64_t>>;

std::vector<std::int64_t> iota(std::int64_t n) {
    std::vector<std::int64_t> v(static_cast<std::size_t>(n));
    std::iota(v.begin(), v.end(), 0);
    return v;
}

// Cuts `items` into consecutive pieces of the given sizes (which sum to items.size()).
Assignment cut(const std::vector<std::int64_t> &items, const std::vector<std::int64_t> &sizes) {
    Assignment out(sizes.size());
    std::size_t pos = 0;
    for (std::size_t c = 0; c < sizes.size(); ++c) {
        out[c].assign(items.begin() + std::ptrdiff_t(pos),
                      items.begin() + std::ptrdiff_t(pos + std::size_t(sizes[c])));
        pos += std::size_t(sizes[c]);
    }
    return out;
}

// Splits n into `parts` whole sizes proportional to p (largest-remainder rounding, sums exactly to n): the
// floors, then one more for each of the largest remainders (ties: lower index first) until n is reached.
std::vector<std::int64_t> proportionalSizes(std::int64_t n, const std::vector<double> &p) {
    std::vector<std::int64_t> sizes(p.size());
    std::vector<std::pair<double, std::size_t>> remainders;
    remainders.reserve(p.size());
    std::int64_t used = 0;
    for (std::size_t i = 0; i < p.size(); ++i) {
        const double exact = p[i] * double(n);
        sizes[i] = std::int64_t(std::floor(exact));
        used += sizes[i];
        remainders.push_back({exact - double(sizes[i]), i});
    }
    if (used >= n || remainders.empty()) return sizes;
    // Larger remainder first, then lower index: a strict order, so its first `deficit` entries are exactly
    // those a stable sort by remainder puts first. Each of them gets one more, in any order: selecting them
    // is enough (linear, where sorting all parts dominated a 1000-client partition).
    const auto before = [](const auto &a, const auto &b) {
        return a.first > b.first || (a.first == b.first && a.second < b.second);
    };
    const std::size_t deficit = std::size_t(n - used);
    if (deficit < remainders.size()) {
        std::nth_element(remainders.begin(), remainders.begin() + std::ptrdiff_t(deficit), remainders.end(),
                         before);
        for (std::size_t k = 0; k < deficit; ++k)
            sizes[remainders[k].second] += 1;
        return sizes;
    }
    std::sort(remainders.begin(), remainders.end(), before);
    for (std::size_t k = 0; used < n; ++k, ++used)
        sizes[remainders[k % remainders.size()].second] += 1;
    return sizes;
}

// Cuts `items` into `parts` consecutive pieces of equal size (sizes differ by at most one).
Assignment cutEqually(const std::vector<std::int64_t> &items, std::size_t parts) {
    return cut(items, proportionalSizes(std::int64_t(items.size()),
                                        std::vector<double>(parts, 1.0 / double(parts))));
}

// The indices of all samples, in a random order drawn from `rng`.
std::vector<std::int64_t> shuffledIndices(const PartitionInput &in, Rng &rng) {
    std::vector<std::int64_t> idx = iota(std::int64_t(in.labels->size()));
    rng.shuffle(idx);
    return idx;
}

std::vector<std::vector<std::int64_t>> byClass(const PartitionInput &in) {
    std::vector<std::vector<std::int64_t>> classes(static_cast<std::size_t>(in.numClasses));
    for (std::size_t i = 0; i < in.labels->size(); ++i)
        classes[std::size_t((*in.labels)[i])].push_back(std::int64_t(i));
    return classes;
}

class IidPartitioner : public Partitioner {
public:
    Assignment assign(const PartitionInput &in) const override {
        Rng rng(in.seed, "partition-iid");
        return cutEqually(shuffledIndices(in, rng), std::size_t(in.clientCount));
    }
};

// Label skew (Hsu et al. 2019): for every class, the shares of the clients are drawn from Dirichlet(alpha).
// Redrawn (up to 100 times) until every client holds min_samples; then the smallest are topped up from the
// largest.
class DirichletPartitioner : public Partitioner {
public:
    explicit DirichletPartitioner(double alpha)
        : m_alpha(alpha) {}
    Assignment assign(const PartitionInput &in) const override {
        const auto classes = byClass(in);
        // A redraw is kept by its client sizes alone, and those depend only on the random draws (a shuffle
        // draws the same numbers whatever it shuffles): count the sizes of each attempt without moving any
        // sample, and build only the attempt that is kept (the last one when none is).
        int kept = 99;
        std::vector<std::int64_t> sizes(std::size_t(in.clientCount));
        for (int attempt = 0; attempt < 100; ++attempt) {
            std::fill(sizes.begin(), sizes.end(), 0);
            Rng rng(in.seed, "partition-dirichlet", attempt);
            for (const auto &members : classes) {
                for (std::size_t i = members.size(); i > 1; --i)
                    rng.below(i); // the draws of rng.shuffle() on members.size() items
                const auto share =
                    proportionalSizes(std::int64_t(members.size()), rng.dirichlet(m_alpha, in.clientCount));
                for (std::size_t c = 0; c < share.size(); ++c)
                    sizes[c] += share[c];
            }
            if (*std::min_element(sizes.begin(), sizes.end()) >= in.minSamples) {
                kept = attempt;
                break;
            }
        }
        Assignment out(std::size_t(in.clientCount));
        Rng rng(in.seed, "partition-dirichlet", kept);
        for (const auto &members : classes) {
            std::vector<std::int64_t> idx = members;
            rng.shuffle(idx);
            const auto share =
                proportionalSizes(std::int64_t(idx.size()), rng.dirichlet(m_alpha, in.clientCount));
            std::size_t pos = 0;
            for (std::size_t c = 0; c < share.size(); ++c) {
                out[c].insert(out[c].end(), idx.begin() + std::ptrdiff_t(pos),
                              idx.begin() + std::ptrdiff_t(pos + std::size_t(share[c])));
                pos += std::size_t(share[c]);
            }
        }
        if (smallest(out) < std::size_t(in.minSamples))
            topUp(out, in, Rng(in.seed, "partition-dirichlet-topup"));
        return out;
    }

    static std::size_t smallest(const Assignment &a) {
        std::size_t m = SIZE_MAX;
        for (const auto &c : a)
            m = std::min(m, c.size());
        return m;
    }
    static void topUp(Assignment &a, const PartitionInput &in, Rng rng) {
        for (auto &client : a) {
            while (std::int64_t(client.size()) < in.minSamples) {
                auto largest = std::max_element(a.begin(), a.end(),
                                                [](auto &x, auto &y) { return x.size() < y.size(); });
                if (std::int64_t(largest->size()) <= in.minSamples)
                    return; // impossible; reported by the caller
                const std::size_t pick = std::size_t(rng.below(largest->size()));
                client.push_back((*largest)[pick]);
                (*largest)[pick] = largest->back();
                largest->pop_back();
            }
        }
    }

private:
    double m_alpha;
};

// Every client holds exactly k classes (client i always holds class i mod C, so every class is used when
// there are at least C clients); each class's samples are shared equally by the clients holding it.
class ClassesPerClientPartitioner : public Partitioner {
public:
    explicit ClassesPerClientPartitioner(int k)
        : m_k(k) {}
    Assignment assign(const PartitionInput &in) const override {
        if (m_k > in.numClasses)
            throw PartitionError(
                QStringLiteral("partition.classes_per_client"),
                QStringLiteral("%1 is more than the dataset's %2 classes").arg(m_k).arg(in.numClasses));
        Rng rng(in.seed, "partition-classes");
        std::vector<std::vector<int>> holders(static_cast<std::size_t>(in.numClasses));
        for (int c = 0; c < in.clientCount; ++c) {
            std::vector<int> owned{c % in.numClasses};
            std::vector<int> others;
            for (int k = 0; k < in.numClasses; ++k)
                if (k != owned[0]) others.push_back(k);
            rng.shuffle(others);
            owned.insert(owned.end(), others.begin(), others.begin() + (m_k - 1));
            for (int k : owned)
                holders[std::size_t(k)].push_back(c);
        }
        const auto classes = byClass(in);
        Assignment out(std::size_t(in.clientCount));
        for (int k = 0; k < in.numClasses; ++k) {
            const auto &h = holders[std::size_t(k)];
            if (h.empty()) continue;
            std::vector<std::int64_t> idx = classes[std::size_t(k)];
            rng.shuffle(idx);
            const auto pieces = cutEqually(idx, h.size());
            for (std::size_t j = 0; j < h.size(); ++j) {
                auto &dst = out[std::size_t(h[j])];
                dst.insert(dst.end(), pieces[j].begin(), pieces[j].end());
            }
        }
        return out;
    }

private:
    int m_k;
};

// Sorted shards (McMahan et al. 2017): sort by label, cut into clients x s equal shards, deal s to each
// client.
class ShardsPartitioner : public Partitioner {
public:
    explicit ShardsPartitioner(int s)
        : m_s(s) {}
    Assignment assign(const PartitionInput &in) const override {
        Rng rng(in.seed, "partition-shards");
        std::vector<std::int64_t> idx = shuffledIndices(in, rng); // random order within a class
        std::stable_sort(idx.begin(), idx.end(), [&](std::int64_t a, std::int64_t b) {
            return (*in.labels)[std::size_t(a)] < (*in.labels)[std::size_t(b)];
        });
        const int shardCount = in.clientCount * m_s;
        if (std::int64_t(idx.size()) < shardCount)
            throw PartitionError(
                QStringLiteral("partition.shards_per_client"),
                QStringLiteral("%1 shards for %2 clients need at least %3 samples; the dataset has %4")
                    .arg(m_s)
                    .arg(in.clientCount)
                    .arg(shardCount)
                    .arg(idx.size()));
        const auto shards = cutEqually(idx, std::size_t(shardCount));
        std::vector<std::int64_t> order = iota(shardCount);
        rng.shuffle(order);
        Assignment out(std::size_t(in.clientCount));
        for (int s = 0; s < shardCount; ++s) {
            auto &dst = out[std::size_t(s / m_s)];
            const auto &shard = shards[std::size_t(order[std::size_t(s)])];
            dst.insert(dst.end(), shard.begin(), shard.end());
        }
        return out;
    }

private:
    int m_s;
};

// Quantity skew: IID labels, client sizes min_samples + Dirichlet(alpha) shares of the rest.
class QuantitySkewPartitioner : public Partitioner {
public:
    explicit QuantitySkewPartitioner(double alpha)
        : m_alpha(alpha) {}
    Assignment assign(const PartitionInput &in) const override {
        Rng rng(in.seed, "partition-quantity");
        const std::vector<std::int64_t> idx = shuffledIndices(in, rng);
        const std::int64_t n = std::int64_t(idx.size());
        const std::int64_t base = std::min<std::int64_t>(in.minSamples, n / in.clientCount);
        std::vector<std::int64_t> sizes =
            proportionalSizes(n - base * in.clientCount, rng.dirichlet(m_alpha, in.clientCount));
        for (auto &s : sizes)
            s += base;
        return cut(idx, sizes);
    }

private:
    double m_alpha;
};

// Natural: the dataset says which client owns each sample (ids 0 .. clients.count-1).
class NaturalPartitioner : public Partitioner {
public:
    Assignment assign(const PartitionInput &in) const override {
        if (!in.naturalIds)
            throw PartitionError(QStringLiteral("partition.name"),
                                 QStringLiteral("'natural' needs a dataset with client ids"));
        Assignment out(std::size_t(in.clientCount));
        for (std::size_t i = 0; i < in.naturalIds->size(); ++i) {
            const int id = (*in.naturalIds)[i];
            if (id < 0 || id >= in.clientCount)
                throw PartitionError(QStringLiteral("clients.count"),
                                     QStringLiteral("the dataset has client id %1, outside [0, %2)")
                                         .arg(id)
                                         .arg(in.clientCount));
            out[std::size_t(id)].push_back(std::int64_t(i));
        }
        return out;
    }
};

} // namespace

std::unique_ptr<Partitioner> makePartitioner(const QString &name, const QJsonObject &params) {
    const auto *factory = Registry::global().factory<PartitionerFactory>(QStringLiteral("partitioner"), name);
    if (!factory)
        throw PartitionError(QStringLiteral("partition.name"),
                             QStringLiteral("unknown partitioner '%1'").arg(name));
    return (*factory)(params);
}

std::vector<ClientShard> partitionDataset(const Partitioner &partitioner, const PartitionInput &in) {
    const std::int64_t n = std::int64_t(in.labels->size());
    if (in.clientCount < 1)
        throw PartitionError(QStringLiteral("clients.count"), QStringLiteral("must be at least 1"));
    if (std::int64_t(in.clientCount) * in.minSamples > n) {
        // With fewer samples than two a client, no min_samples helps: the population is too large.
        if (n / in.clientCount < 2)
            throw PartitionError(
                QStringLiteral("clients.count"),
                QStringLiteral("%1 clients need at least %2 samples (2 each); the training pool has "
                               "%3. Allowed here: at most %4 clients (or more data)")
                    .arg(in.clientCount)
                    .arg(2 * std::int64_t(in.clientCount))
                    .arg(n)
                    .arg(std::max<std::int64_t>(1, n / 2)));
        throw PartitionError(
            QStringLiteral("partition.min_samples"),
            QStringLiteral("%1 clients x %2 samples need %3 samples; the training pool has %4. Allowed here: "
                           "at most %5 (or fewer clients)")
                .arg(in.clientCount)
                .arg(in.minSamples)
                .arg(std::int64_t(in.clientCount) * in.minSamples)
                .arg(n)
                .arg(n / in.clientCount));
    }
    const auto assignment = partitioner.assign(in);
    std::vector<ClientShard> shards(assignment.size());
    for (std::size_t c = 0; c < assignment.size(); ++c) {
        std::vector<std::int64_t> idx = assignment[c];
        if (std::int64_t(idx.size()) < in.minSamples)
            throw PartitionError(
                QStringLiteral("partition.min_samples"),
                QStringLiteral("client %1 got %2 samples, fewer than %3; lower clients.count or "
                               "partition.min_samples (or raise partition.alpha for dirichlet)")
                    .arg(c)
                    .arg(idx.size())
                    .arg(in.minSamples));
        std::sort(idx.begin(), idx.end());
        Rng(in.seed, "test-split", std::int64_t(c)).shuffle(idx);
        std::int64_t nTest = std::llround(in.testFraction * double(idx.size()));
        if (in.testFraction > 0 && idx.size() >= 2)
            nTest = std::clamp<std::int64_t>(nTest, 1, std::int64_t(idx.size()) - 1);
        shards[c].test.assign(idx.begin(), idx.begin() + nTest);
        shards[c].train.assign(idx.begin() + nTest, idx.end());
        std::sort(shards[c].test.begin(), shards[c].test.end());
        std::sort(shards[c].train.begin(), shards[c].train.end());
    }
    return shards;
}

std::vector<std::int64_t> labelHistogram(const std::vector<int> &labels, int numClasses,
                                         const std::vector<std::int64_t> &indices) {
    std::vector<std::int64_t> h(static_cast<std::size_t>(numClasses), 0);
    for (std::int64_t i : indices)
        h[std::size_t(labels[std::size_t(i)])] += 1;
    return h;
}

void registerPartitioners() {
    Registry &r = Registry::global();
    auto add = [&](const QString &name, const QString &title, const QString &help, const QString &explanation,
                   QList<ParamSchema> params, PartitionerFactory factory, QStringList capabilities = {},
                   ComponentCheck check = {}) {
        auto c = ComponentSchema::make(QStringLiteral("partitioner"), name, title, help, std::move(params));
        c.explanation = explanation;
        c.capabilities = std::move(capabilities);
        c.factory = std::move(factory);
        c.check = std::move(check);
        r.addComponent(std::move(c));
    };
    auto real = [](const QJsonObject &p, const char *key, double def) {
        return p.value(QLatin1String(key)).toDouble(def);
    };
    auto integer = [](const QJsonObject &p, const char *key, int def) {
        return p.value(QLatin1String(key)).toInt(def);
    };
    add(QStringLiteral("iid"), QStringLiteral("IID"),
        QStringLiteral("Uniformly random, equal-sized clients."),
        QStringLiteral("Every client gets a random, equally large slice of the data, so all clients look "
                       "alike: the easy baseline every other split is compared with."),
        {}, [](const QJsonObject &) { return std::make_unique<IidPartitioner>(); });
    add(QStringLiteral("dirichlet"), QStringLiteral("Dirichlet label skew"),
        QStringLiteral("Each class is shared over clients by Dirichlet(alpha) proportions; small alpha = few "
                       "classes per client, large alpha tends to IID."),
        QStringLiteral(
            "The usual way to make clients differ: each class is spread unevenly over the clients. "
            "With alpha 0.1 most clients see one or two classes; with alpha 100 the split is nearly "
            "IID."),
        {explained(
            realParam(QStringLiteral("alpha"), 0.5, 0.0, 1e6,
                      QStringLiteral("Concentration; smaller is more skewed."), {}, true),
            QStringLiteral("Sets how unevenly each class is spread. Around 0.1 most clients hold one or "
                           "two classes (hard for plain averaging); 0.5 is the usual 'moderately "
                           "non-IID' setting of papers; 10 and above is close to an even split. Compare "
                           "strategies at a small alpha to see which cope with skew."))},
        [real](const QJsonObject &p) {
            return std::make_unique<DirichletPartitioner>(real(p, "alpha", 0.5));
        });
    add(
        QStringLiteral("classes-per-client"), QStringLiteral("k classes per client"),
        QStringLiteral("Every client holds exactly k classes."),
        QStringLiteral("A strong, easy-to-picture skew: each client only ever sees k of the classes (two, "
                       "say), like a shop that sells only shoes and bags."),
        {explained(intParam(QStringLiteral("classes_per_client"), 2, 1, 1000,
                            QStringLiteral("Classes each client holds."), QStringLiteral("classes")),
                   QStringLiteral("1 is the extreme: every client knows a single class and can only learn to "
                                  "say that class. 2 is the classic hard setting; with as many classes as "
                                  "the dataset has, the split is close to IID. At most the dataset's number "
                                  "of classes."))},
        [integer](const QJsonObject &p) {
            return std::make_unique<ClassesPerClientPartitioner>(integer(p, "classes_per_client", 2));
        },
        {},
        [](const FederationSpec &spec, QList<SpecIssue> &errors) {
            const QString dataset = spec.string(QStringLiteral("dataset.name"));
            const int classes = datasetFacts(dataset).numClasses;
            const qint64 k = spec.integer(QStringLiteral("partition.classes_per_client"));
            if (classes > 0 && k > classes)
                errors.append(
                    {QStringLiteral("partition.classes_per_client"),
                     QStringLiteral("%1 is more than the %2 classes of '%3'; allowed: an integer in [1, %2]")
                         .arg(k)
                         .arg(classes)
                         .arg(dataset)});
        });
    add(QStringLiteral("shards"), QStringLiteral("Sorted shards"),
        QStringLiteral(
            "Sort by label, cut into equal shards, deal shards_per_client to each client (McMahan et "
            "al. 2017)."),
        QStringLiteral("The split of the original FedAvg paper: the data sorted by label is cut into equal "
                       "pieces and every client gets a few pieces, so it holds only a few classes."),
        {explained(intParam(QStringLiteral("shards_per_client"), 2, 1, 1000,
                            QStringLiteral("Shards each client gets."), QStringLiteral("shards")),
                   QStringLiteral("Each shard is a slice of the label-sorted data, so it holds one class or "
                                  "a few (fewer the more clients there are). With 2 shards each for 100 "
                                  "clients, as in the FedAvg paper, most clients hold two classes; more "
                                  "shards per client mix in more classes and make the split easier."))},
        [integer](const QJsonObject &p) {
            return std::make_unique<ShardsPartitioner>(integer(p, "shards_per_client", 2));
        });
    add(QStringLiteral("quantity-skew"), QStringLiteral("Quantity skew"),
        QStringLiteral("IID labels; client sizes follow Dirichlet(alpha) shares above min_samples."),
        QStringLiteral("Clients see the same mix of classes but hold very different amounts of data: a few "
                       "big clients and many small ones when alpha is small."),
        {explained(
            realParam(QStringLiteral("alpha"), 1.0, 0.0, 1e6,
                      QStringLiteral("Concentration of sizes; smaller is more skewed."), {}, true),
            QStringLiteral("Sets how unequal the clients' amounts of data are. Around 0.1 a few clients "
                           "hold most of the data and the rest have little more than "
                           "partition.min_samples; 1 gives a clear spread; 100 makes the clients "
                           "almost equally large."))},
        [real](const QJsonObject &p) {
            return std::make_unique<QuantitySkewPartitioner>(real(p, "alpha", 1.0));
        });
    add(QStringLiteral("natural"), QStringLiteral("Natural clients"),
        QStringLiteral("Use the client ids the dataset carries (synthetic)."),
        QStringLiteral(
            "Some datasets come already split by their owners (every synthetic client generates its "
            "own data): keep that split."),
        {}, [](const QJsonObject &) { return std::make_unique<NaturalPartitioner>(); },
        {QStringLiteral("needs-natural-clients")});
}

} // namespace fedwb
