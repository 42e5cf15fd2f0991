// libFuzzer: a dataset file, read by the engine's IDX reader (readIdxFile in engine/data/Dataset.cpp: gzip or
// plain, header, payload), then viewed as the fashion-mnist loader views it (images [N, 1, 28, 28] as float,
// labels as int64).
//
// Beyond "no crash, no leak, no UB": a refused file is a SpecError naming the key path, and an accepted one
// is consistent: 1..4 dimensions, none negative, and exactly as many bytes as the dimensions promise.
#include "fuzz_support.h"

#include "data/dataset_p.h"
#include "spec/SpecError.h"

using namespace fedwb;

namespace {
QString idxPath;
const QString keyPath = QStringLiteral("dataset.path");
} // namespace

extern "C" int LLVMFuzzerInitialize(int *, char ***) {
    fuzz::initQt();
    torch::set_num_threads(1);
    idxPath = fuzz::scratchDir() + QStringLiteral("/train-images-idx3-ubyte.gz");
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size) {
    fuzz::writeInput(idxPath, data, size);
    IdxArray a;
    try {
        a = readIdxFile(idxPath, keyPath);
    } catch (const SpecError &e) {
        FUZZ_CHECK(e.path() == keyPath, e.path());
        return 0;
    }
    FUZZ_CHECK(a.dims.size() >= 1 && a.dims.size() <= 4, QStringLiteral("%1 dimensions").arg(a.dims.size()));
    QString shape;
    bool empty = false;
    for (int d : a.dims) {
        shape += QStringLiteral(" %1").arg(d);
        FUZZ_CHECK(d >= 0, QStringLiteral("negative dimension in") + shape);
        empty = empty || d == 0;
    }
    // The product of the dimensions must be the payload: 0 when any dimension is 0 (the others may be
    // large), otherwise computed without wrapping around.
    std::uint64_t product = empty ? 0 : 1;
    bool wrapped = false;
    for (int d : a.dims)
        if (!empty) wrapped = wrapped || __builtin_mul_overflow(product, std::uint64_t(d), &product);
    FUZZ_CHECK(!wrapped && product == a.data.size(),
               QStringLiteral("dimensions%1 for %2 bytes of data").arg(shape).arg(a.data.size()));

    // What the fashion-mnist loader does with a well-formed array (dataset.train_limit = 0: all of it).
    if (a.dims.size() == 3 && a.dims[1] == 28 && a.dims[2] == 28) {
        auto bytes = torch::from_blob(a.data.data(), {a.dims[0], 1, 28, 28}, torch::kUInt8);
        torch::Tensor x = bytes.to(torch::kFloat32).div_(255.0f).contiguous();
        FUZZ_CHECK(x.numel() == std::int64_t(a.data.size()), QString());
    } else if (a.dims.size() == 1) {
        std::vector<std::int64_t> y(a.data.begin(), a.data.end());
        torch::Tensor t = torch::tensor(y, torch::kInt64);
        FUZZ_CHECK(t.numel() == a.dims[0], QString());
    }
    return 0;
}
