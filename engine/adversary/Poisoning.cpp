#include "adversary/poisoning_p.h"

#include <numeric>
#include <stdexcept>

namespace fedwb {

namespace {

// Float rows of a contiguous [n, ...] tensor as one span.
std::span<float> floats(torch::Tensor &t) {
    return {t.data_ptr<float>(), std::size_t(t.numel())};
}

} // namespace

std::unique_ptr<PoisonedData> poisonedCopy(const Behaviour &behaviour, const LocalData &data,
                                           const DatasetFacts &facts, std::uint64_t key) {
    if (data.y->scalar_type() != torch::kInt64)
        throw std::invalid_argument(
            "data poisoning needs class labels; the dataset's targets are real numbers");
    auto p = std::make_unique<PoisonedData>();
    const auto n = std::int64_t(data.train->size());
    const auto idx = torch::from_blob(const_cast<std::int64_t *>(data.train->data()), {n}, torch::kInt64);
    p->x = data.x->index_select(0, idx).contiguous(); // a copy: the shared dataset stays clean
    p->y = data.y->index_select(0, idx).contiguous();
    const bool image = facts.image;
    LocalSamples s{.inputs = floats(p->x),
                   .labels = {p->y.data_ptr<std::int64_t>(), std::size_t(n)},
                   .features = n > 0 ? int(p->x.numel() / n) : facts.features,
                   .channels = image ? facts.channels : 0,
                   .height = image ? facts.height : 0,
                   .width = image ? facts.width : 0,
                   .classes = facts.numClasses,
                   .pixelOffset = data.pixelOffset,
                   .pixelScale = data.pixelScale};
    behaviour.poison(s, key);
    p->rows.resize(std::size_t(n));
    std::iota(p->rows.begin(), p->rows.end(), std::int64_t(0));
    p->local = {&p->x, &p->y, &p->rows, &p->noTest, data.pixelOffset, data.pixelScale};
    return p;
}

TriggeredSet triggeredTestSet(const LoadedDataset &data, const BackdoorTrigger &trigger) {
    const DatasetFacts &f = data.facts;
    if (!f.image) throw std::invalid_argument("a backdoor trigger needs image data");
    const torch::Tensor others = data.testY.ne(trigger.targetClass).nonzero().squeeze(1);
    TriggeredSet set;
    set.x = data.testX.index_select(0, others).contiguous();
    const std::int64_t n = set.x.size(0);
    const std::span<float> all = floats(set.x);
    const auto perImage = std::size_t(f.channels) * std::size_t(f.height) * std::size_t(f.width);
    for (std::int64_t i = 0; i < n; ++i)
        trigger.stamp(all.subspan(std::size_t(i) * perImage, perImage), f.channels, f.height, f.width,
                      data.pixelOffset, data.pixelScale);
    set.y = torch::full({n}, std::int64_t(trigger.targetClass), torch::kInt64);
    return set;
}

} // namespace fedwb
