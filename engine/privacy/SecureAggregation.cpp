#include "privacy/SecureAggregation.h"
#include "util/Cbor.h"

#include "privacy/CentralDp.h"
#include "spec/FederationSpec.h"
#include "spec/Registry.h"
#include "strategy/UpdateStage.h"
#include "util/Rng.h"

#include <QCborArray>
#include <QCborMap>
#include <QCborValue>
#include <QElapsedTimer>
#include <QJsonArray>
#include <QtEndian>

#include <sodium.h>
extern "C" {
#include <libgfshare.h> // a C header without its own extern "C"
}

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <map>
#include <mutex>
#include <set>

namespace fedwb::privacy {

namespace {

using Key = std::array<unsigned char, 32>; // X25519 keys, shared secrets, b_i, PRG keys, shares
static_assert(crypto_box_PUBLICKEYBYTES == 32 && crypto_box_SECRETKEYBYTES == 32);
static_assert(crypto_scalarmult_BYTES == 32 && crypto_scalarmult_SCALARBYTES == 32);
static_assert(crypto_stream_chacha20_ietf_KEYBYTES == 32);

constexpr int kMaxWindow = 255;                         // libgfshare's share numbers are bytes 1..255
constexpr std::uint64_t kMaxModulus = 9007199254740992; // 2^53: workspace numbers are doubles
// Purpose labels hashed in front of a seed, so the two kinds of mask can never share a keystream.
constexpr char kSelfMaskLabel[] = "fedwb secure aggregation: self mask v1";
constexpr char kPairMaskLabel[] = "fedwb secure aggregation: pairwise mask v1";
// A share's plaintext: owner id, holder id, round (int32 LE each), share number, share of b, share of s_sk.
constexpr std::size_t kSharePlaintext = 4 + 4 + 4 + 1 + 32 + 32;

// libgfshare draws its polynomial coefficients from gfshare_fill_rand (NULL until set; the library's
// alternative uses random()): the operating system's generator through libsodium.
void gfshareRandom(unsigned char *buffer, unsigned int count) {
    randombytes_buf(buffer, count);
}

void ensureCrypto() {
    static std::once_flag once;
    static bool ready = false;
    std::call_once(once, [] {
        ready = sodium_init() >= 0;
        gfshare_fill_rand = gfshareRandom;
    });
    if (!ready) throw std::runtime_error("secure aggregation: libsodium could not be initialized");
}

QString failedIn(int round) {
    return QStringLiteral("secure aggregation failed in round %1: ").arg(round);
}

[[noreturn]] void fail(int round, const QString &why) {
    throw SecAggFailure(QString(failedIn(round) + why).toStdString());
}

bool isPowerOfTwo(std::uint64_t m) {
    return m != 0 && (m & (m - 1)) == 0;
}
int wordBytes(std::uint64_t modulus) {
    return modulus <= (std::uint64_t(1) << 32) ? 4 : 8;
}

// --- The round's layout ----------------------------------------------------------------------------------

struct Roster {
    int round = 0;
    std::vector<int> ids; // sorted: the ring
    int k = 0, t = 0;     // window (the client itself included) and threshold, resolved
    SecAggParams params;

    int n() const { return int(ids.size()); }
    int position(int id) const {
        const auto it = std::lower_bound(ids.begin(), ids.end(), id);
        return it != ids.end() && *it == id ? int(it - ids.begin()) : -1;
    }
    bool everyone() const { return k == n(); }
    // The window of `owner` in share-number order: the k clients from (k - 1) / 2 before it to (k - 1) / 2
    // after it on the ring, or every client in id order.
    std::vector<int> window(int owner) const {
        if (everyone()) return ids;
        const int p = position(owner), h = (k - 1) / 2;
        std::vector<int> w;
        w.reserve(std::size_t(k));
        for (int o = -h; o <= h; ++o)
            w.push_back(ids[std::size_t(((p + o) % n() + n()) % n())]);
        return w;
    }
    bool inWindow(int owner, int holder) const {
        if (everyone()) return true;
        const int d = std::abs(position(owner) - position(holder));
        return std::min(d, n() - d) <= (k - 1) / 2;
    }
    // The x coordinate (1..k) of the share `holder` keeps of `owner`'s secrets.
    int shareNumber(int owner, int holder) const {
        if (everyone()) return position(holder) + 1;
        const int h = (k - 1) / 2;
        int offset = position(holder) - position(owner);
        if (offset > h) offset -= n();
        if (offset < -h) offset += n();
        return offset + h + 1;
    }
};

// The roster of a round, or SecAggFailure naming the key that keeps the round from running.
Roster makeRoster(int round, std::vector<int> ids, const SecAggParams &p) {
    std::sort(ids.begin(), ids.end());
    if (std::adjacent_find(ids.begin(), ids.end()) != ids.end())
        fail(round, QStringLiteral("a client appears twice among the participants"));
    Roster r;
    r.round = round;
    r.ids = std::move(ids);
    r.params = p;
    const int n = r.n();
    if (n < 2)
        fail(round,
             QStringLiteral("only %1 client took part; the sum of one update is that update, so secure "
                            "aggregation needs at least 2 clients per round (clients.per_round)")
                 .arg(n));
    if (!(p.clippingRange > 0) || !std::isfinite(p.clippingRange))
        fail(round, QStringLiteral("secure_aggregation.clipping_range must be a finite number > 0"));
    if (p.modulusRange < 2 || p.modulusRange > kMaxModulus)
        fail(round,
             QStringLiteral("secure_aggregation.modulus_range %1 is outside [2, 2^53]").arg(p.modulusRange));
    if (p.quantizationRange < 2)
        fail(round, QStringLiteral("secure_aggregation.quantization_range must be at least 2"));
    // n (Q - 1) <= M - 1: the sum of n words in [0, Q - 1] never wraps around M.
    if (p.quantizationRange - 1 > (p.modulusRange - 1) / std::uint64_t(n))
        fail(round,
             QStringLiteral("the round's %1 clients * (secure_aggregation.quantization_range - 1) = %1 * %2 "
                            "does not fit below secure_aggregation.modulus_range %3: the sum would "
                            "wrap around; lower quantization_range or raise modulus_range")
                 .arg(n)
                 .arg(p.quantizationRange - 1)
                 .arg(p.modulusRange));
    if (p.numShares < 0) fail(round, QStringLiteral("secure_aggregation.num_shares must be >= 0"));
    r.k = p.numShares == 0 || p.numShares >= n ? n : p.numShares;
    if (r.k < n && r.k % 2 == 0)
        fail(round, QStringLiteral("secure_aggregation.num_shares %1 is even, but a window is the client and "
                                   "(num_shares - 1) / 2 neighbours on each side; allowed: 0 (every client "
                                   "of the round), an odd number in [3, %2], or at least the round's %3 "
                                   "clients")
                        .arg(r.k)
                        .arg(kMaxWindow)
                        .arg(n));
    if (r.k > kMaxWindow)
        fail(round,
             QStringLiteral("a window of %1 clients is more than the %2 share holders Shamir shares "
                            "over GF(2^8) allow; set secure_aggregation.num_shares to an odd number in "
                            "[3, %2]")
                 .arg(r.k)
                 .arg(kMaxWindow));
    r.t = p.reconstructionThreshold == 0 ? r.k / 2 + 1 : p.reconstructionThreshold;
    if (r.t < 2 || r.t > r.k)
        fail(round, QStringLiteral("secure_aggregation.reconstruction_threshold %1 is outside [2, %2]: a "
                                   "secret is split among the %2 clients of a window (num_shares, at most "
                                   "the round's %3 clients)")
                        .arg(r.t)
                        .arg(r.k)
                        .arg(n));
    return r;
}

// --- Messages ---------------------------------------------------------------------------------------------

QCborValue parseMessage(const QByteArray &bytes, int round, const char *what) {
    QCborParserError error;
    QCborValue v = QCborValue::fromCbor(bytes, &error);
    if (error.error != QCborError::NoError)
        fail(round,
             QStringLiteral("a malformed %1 message (%2)").arg(QLatin1String(what), error.errorString()));
    return v;
}

QByteArray bytesOf(const Key &k) {
    return QByteArray(reinterpret_cast<const char *>(k.data()), qsizetype(k.size()));
}

Key keyOf(const QCborValue &v, int round, const char *what) {
    const QByteArray b = v.toByteArray();
    if (b.size() != 32) fail(round, QStringLiteral("a %1 is not 32 bytes").arg(QLatin1String(what)));
    Key k;
    std::memcpy(k.data(), b.constData(), 32);
    return k;
}

void putInt32(unsigned char *p, std::int32_t v) {
    qToLittleEndian(v, p);
}
std::int32_t getInt32(const unsigned char *p) {
    return qFromLittleEndian<std::int32_t>(p);
}

// --- Masks
// --------------------------------------------------------------------------------------------------

// BLAKE2b-256 of a purpose label and the given parts: the ChaCha20 key of one mask.
Key maskKey(const char *label, std::initializer_list<const Key *> parts) {
    crypto_generichash_state state;
    crypto_generichash_init(&state, nullptr, 0, 32);
    crypto_generichash_update(&state, reinterpret_cast<const unsigned char *>(label), std::strlen(label));
    for (const Key *part : parts)
        crypto_generichash_update(&state, part->data(), part->size());
    Key key;
    crypto_generichash_final(&state, key.data(), key.size());
    sodium_memzero(&state, sizeof state);
    return key;
}

Key selfMaskKey(const Key &b) {
    return maskKey(kSelfMaskLabel, {&b});
}

// The key of the pairwise mask of clients a and b: their X25519 shared secret and both public mask keys,
// the lower client id's first, so both ends derive the same key.
Key pairMaskKey(const Key &shared, int idA, const Key &pkA, int idB, const Key &pkB) {
    return idA < idB ? maskKey(kPairMaskLabel, {&shared, &pkA, &pkB})
                     : maskKey(kPairMaskLabel, {&shared, &pkB, &pkA});
}

// X25519(sk, pk); refuses a public key of small order (the all-zero result).
Key sharedSecret(const Key &sk, const Key &pk, int round, int peer) {
    Key q;
    if (crypto_scalarmult(q.data(), sk.data(), pk.data()) != 0)
        fail(round, QStringLiteral("client %1's mask public key is not a valid X25519 key").arg(peer));
    return q;
}

// The ChaCha20 (IETF) keystream under `key` (nonce zero: every key is used for one stream only), read as
// words uniform in [0, M): low bits of 32- or 64-bit words for a power of two, else 64-bit words by
// rejection.
class MaskStream {
public:
    MaskStream(const Key &key, std::uint64_t modulus)
        : m_key(key)
        , m_modulus(modulus)
        , m_pow2(isPowerOfTwo(modulus))
        , m_narrow(m_pow2 && modulus <= (std::uint64_t(1) << 32))
        // Accept w <= limit: 2^64 - (2^64 mod M) words, a multiple of M.
        , m_limit(m_pow2 ? ~std::uint64_t(0) : ~std::uint64_t(0) - (std::uint64_t(0) - modulus) % modulus) {}
    ~MaskStream() {
        sodium_memzero(m_key.data(), m_key.size());
        sodium_memzero(m_buffer, sizeof m_buffer);
    }

    std::uint64_t next() {
        if (m_narrow) return take32() & (m_modulus - 1);
        if (m_pow2) return take64() & (m_modulus - 1);
        for (;;)
            if (const std::uint64_t w = take64(); w <= m_limit) return w % m_modulus;
    }

private:
    void refill() {
        std::memset(m_buffer, 0, sizeof m_buffer);
        static const unsigned char nonce[crypto_stream_chacha20_ietf_NONCEBYTES] = {};
        crypto_stream_chacha20_ietf_xor_ic(m_buffer, m_buffer, sizeof m_buffer, nonce, m_block, m_key.data());
        m_block += sizeof m_buffer / 64; // 64-byte ChaCha20 blocks; 2^32 of them = 256 GiB per stream
        m_pos = 0;
    }
    std::uint32_t take32() {
        if (m_pos + 4 > sizeof m_buffer) refill();
        const std::uint32_t w = qFromLittleEndian<std::uint32_t>(m_buffer + m_pos);
        m_pos += 4;
        return w;
    }
    std::uint64_t take64() {
        if (m_pos + 8 > sizeof m_buffer) refill();
        const std::uint64_t w = qFromLittleEndian<std::uint64_t>(m_buffer + m_pos);
        m_pos += 8;
        return w;
    }

    Key m_key;
    std::uint64_t m_modulus;
    bool m_pow2, m_narrow;
    std::uint64_t m_limit;
    unsigned char m_buffer[4096];
    std::size_t m_pos = sizeof m_buffer;
    std::uint32_t m_block = 0;
};

// acc = acc + PRG(key) or acc - PRG(key), elementwise mod M (acc's words are below M).
void applyMask(std::vector<std::uint64_t> &acc, const Key &key, bool add, std::uint64_t modulus) {
    MaskStream stream(key, modulus);
    for (std::uint64_t &a : acc) {
        const std::uint64_t m = stream.next();
        if (add)
            a = a >= modulus - m ? a - (modulus - m) : a + m;
        else
            a = a >= m ? a - m : a + (modulus - m);
    }
}

// --- Shamir shares (libgfshare) ---------------------------------------------------------------------------

// k shares of a 32-byte secret with threshold t; share i has the x coordinate i + 1.
std::vector<Key> splitSecret(const Key &secret, int k, int t) {
    std::vector<unsigned char> numbers(static_cast<std::size_t>(k));
    for (int i = 0; i < k; ++i)
        numbers[std::size_t(i)] = static_cast<unsigned char>(i + 1);
    gfshare_ctx *ctx = gfshare_ctx_init_enc(numbers.data(), unsigned(k), static_cast<unsigned char>(t), 32);
    if (!ctx) throw std::bad_alloc();
    Key copy = secret; // setsecret takes a mutable buffer
    gfshare_ctx_enc_setsecret(ctx, copy.data());
    sodium_memzero(copy.data(), copy.size());
    std::vector<Key> shares(static_cast<std::size_t>(k));
    for (int i = 0; i < k; ++i)
        gfshare_ctx_enc_getshare(ctx, static_cast<unsigned char>(i), shares[std::size_t(i)].data());
    gfshare_ctx_free(ctx); // overwrites its buffers (gfshare_fill_rand) before freeing them
    return shares;
}

// The secret from (x, share) pairs (the first `t` are used; the caller checks there are that many).
Key combineShares(const std::vector<std::pair<int, Key>> &shares, int t) {
    std::vector<unsigned char> numbers(static_cast<std::size_t>(t));
    for (int i = 0; i < t; ++i)
        numbers[std::size_t(i)] = static_cast<unsigned char>(shares[std::size_t(i)].first);
    gfshare_ctx *ctx = gfshare_ctx_init_dec(numbers.data(), unsigned(t), 32);
    if (!ctx) throw std::bad_alloc();
    for (int i = 0; i < t; ++i) {
        Key share = shares[std::size_t(i)].second;
        gfshare_ctx_dec_giveshare(ctx, static_cast<unsigned char>(i), share.data());
    }
    Key secret;
    gfshare_ctx_dec_extract(ctx, secret.data());
    gfshare_ctx_free(ctx);
    return secret;
}

QCborArray idArray(const std::vector<int> &ids) {
    QCborArray a;
    for (int id : ids)
        a.append(id);
    return a;
}

std::vector<int> idsOf(const QCborValue &v, int round, const char *what) {
    if (!v.isArray()) fail(round, QStringLiteral("%1 is not a list of client ids").arg(QLatin1String(what)));
    std::vector<int> ids;
    for (const QCborValue &x : v.toArray()) {
        if (!x.isInteger()) fail(round, QStringLiteral("%1 holds a non-integer").arg(QLatin1String(what)));
        ids.push_back(int(cborInteger(x, 0)));
    }
    return ids;
}

} // namespace

// --- Client ------------------------------------------------------------------------------------------------

struct SecAggClient::State {
    enum class Step { Fresh, Advertised, Shared, Masked, Unmasked };
    int id = -1;
    Step step = Step::Fresh;
    Roster roster;
    Key cPk{}, cSk{}, sPk{}, sSk{}, b{};
    Key ownShareB{}; // its own share of b (it keeps no share of its own s_sk: it reveals only if it survived)
    std::map<int, std::pair<Key, Key>> peers; // window member -> (c_pk, s_pk)
    std::map<int, QByteArray> received;       // window member -> ciphertext holding its shares for us

    int round() const { return roster.round; }
    ~State() {
        for (Key *k : {&cSk, &sSk, &b, &ownShareB})
            sodium_memzero(k->data(), k->size());
    }
};

SecAggClient::SecAggClient(int clientId)
    : d(std::make_unique<State>()) {
    ensureCrypto();
    d->id = clientId;
}

SecAggClient::~SecAggClient() = default;

int SecAggClient::clientId() const {
    return d->id;
}

QByteArray SecAggClient::advertiseKeys(const QByteArray &setup) {
    const QCborMap m = parseMessage(setup, 0, "setup").toMap();
    const int round = int(cborInteger(m.value(QStringLiteral("round")), 0));
    if (d->step != State::Step::Fresh) fail(round, QStringLiteral("client %1 was set up twice").arg(d->id));
    SecAggParams p;
    p.numShares = int(cborInteger(m.value(QStringLiteral("num_shares")), 0));
    p.reconstructionThreshold = int(cborInteger(m.value(QStringLiteral("reconstruction_threshold")), 0));
    p.clippingRange = m.value(QStringLiteral("clipping_range")).toDouble();
    p.quantizationRange = std::uint64_t(cborInteger(m.value(QStringLiteral("quantization_range")), 0));
    p.modulusRange = std::uint64_t(cborInteger(m.value(QStringLiteral("modulus_range")), 0));
    p.l2ClipNorm = m.value(QStringLiteral("l2_clip_norm")).toDouble();
    p.countUnclipped = m.value(QStringLiteral("count_unclipped")).toBool();
    // The client works the layout out itself from the participants; a threshold below 2 would let one
    // other client alone rebuild its secrets, and makeRoster refuses it.
    d->roster = makeRoster(round, idsOf(m.value(QStringLiteral("participants")), round, "participants"), p);
    if (d->roster.position(d->id) < 0)
        fail(round, QStringLiteral("client %1 is not among the participants").arg(d->id));
    crypto_box_keypair(d->cPk.data(), d->cSk.data());
    randombytes_buf(d->sSk.data(), d->sSk.size());
    crypto_scalarmult_base(d->sPk.data(), d->sSk.data());
    d->step = State::Step::Advertised;
    return QCborValue(QCborMap{{QStringLiteral("id"), d->id},
                               {QStringLiteral("c_pk"), bytesOf(d->cPk)},
                               {QStringLiteral("s_pk"), bytesOf(d->sPk)}})
        .toCbor();
}

QByteArray SecAggClient::shareKeys(const QByteArray &windowKeys) {
    const int round = d->round();
    if (d->step != State::Step::Advertised)
        fail(round, QStringLiteral("client %1 got public keys out of order").arg(d->id));
    const std::vector<int> window = d->roster.window(d->id);
    for (const QCborValue &v : parseMessage(windowKeys, round, "public keys").toArray()) {
        const QCborMap e = v.toMap();
        const int peer = int(cborInteger(e.value(QStringLiteral("id")), 0));
        if (peer == d->id || !d->roster.inWindow(d->id, peer) || d->peers.count(peer))
            fail(round, QStringLiteral("client %1 got keys of client %2, who is not a neighbour")
                            .arg(d->id)
                            .arg(peer));
        d->peers[peer] = {keyOf(e.value(QStringLiteral("c_pk")), round, "public key"),
                          keyOf(e.value(QStringLiteral("s_pk")), round, "public key")};
    }
    if (d->peers.size() != window.size() - 1)
        fail(round, QStringLiteral("client %1 got the keys of %2 of its %3 neighbours")
                        .arg(d->id)
                        .arg(d->peers.size())
                        .arg(window.size() - 1));

    randombytes_buf(d->b.data(), d->b.size()); // the self-mask seed, full width
    const int k = d->roster.k, t = d->roster.t;
    std::vector<Key> sharesB = splitSecret(d->b, k, t);
    std::vector<Key> sharesSk = splitSecret(d->sSk, k, t);
    QCborArray out;
    for (int holder : window) {
        const int x = d->roster.shareNumber(d->id, holder);
        const Key &shareB = sharesB[std::size_t(x - 1)], &shareSk = sharesSk[std::size_t(x - 1)];
        if (holder == d->id) {
            d->ownShareB = shareB;
            continue;
        }
        unsigned char plain[kSharePlaintext];
        putInt32(plain, d->id);
        putInt32(plain + 4, holder);
        putInt32(plain + 8, round);
        plain[12] = static_cast<unsigned char>(x);
        std::memcpy(plain + 13, shareB.data(), 32);
        std::memcpy(plain + 45, shareSk.data(), 32);
        QByteArray ct(qsizetype(crypto_box_NONCEBYTES + crypto_box_MACBYTES + kSharePlaintext),
                      Qt::Uninitialized);
        auto *c = reinterpret_cast<unsigned char *>(ct.data());
        randombytes_buf(c, crypto_box_NONCEBYTES);
        if (crypto_box_easy(c + crypto_box_NONCEBYTES, plain, kSharePlaintext, c,
                            d->peers[holder].first.data(), d->cSk.data()) != 0)
            fail(round, QStringLiteral("client %1 could not encrypt to client %2").arg(d->id).arg(holder));
        sodium_memzero(plain, sizeof plain);
        out.append(QCborMap{{QStringLiteral("to"), holder}, {QStringLiteral("ct"), ct}});
    }
    for (std::vector<Key> *shares : {&sharesB, &sharesSk})
        sodium_memzero(shares->data(), shares->size() * sizeof(Key));
    d->step = State::Step::Shared;
    return QCborValue(out).toCbor();
}

QByteArray SecAggClient::maskedInput(const QByteArray &ciphertexts, std::span<const float> update,
                                     std::uint64_t roundingKey) {
    const int round = d->round();
    if (d->step != State::Step::Shared)
        fail(round, QStringLiteral("client %1 was asked for its input out of order").arg(d->id));
    for (const QCborValue &v : parseMessage(ciphertexts, round, "ciphertexts").toArray()) {
        const QCborMap e = v.toMap();
        const int from = int(cborInteger(e.value(QStringLiteral("from")), 0));
        if (!d->peers.count(from) || d->received.count(from))
            fail(round, QStringLiteral("client %1 got shares from client %2, who is not a neighbour")
                            .arg(d->id)
                            .arg(from));
        d->received[from] = e.value(QStringLiteral("ct")).toByteArray();
    }
    if (d->received.size() != d->peers.size())
        fail(round, QStringLiteral("client %1 got shares from %2 of its %3 neighbours")
                        .arg(d->id)
                        .arg(d->received.size())
                        .arg(d->peers.size()));

    // Clip (L2 with central DP, then per coordinate) and quantize by stochastic rounding: q = floor(y) + 1
    // with probability frac(y), y = (x + c) / step in [0, Q - 1]; one draw per coordinate whatever its value.
    const SecAggParams &p = d->roster.params;
    const std::uint64_t M = p.modulusRange, Q = p.quantizationRange;
    const double c = p.clippingRange, perStep = double(Q - 1) / (2 * c);
    const double norm = p.l2ClipNorm > 0 ? l2Norm(update) : 0.0;
    const double scale = p.l2ClipNorm > 0 ? clipFactor(norm, p.l2ClipNorm) : 1.0;
    Rng rounding(roundingKey);
    std::vector<std::uint64_t> words(update.size() + (p.countUnclipped ? 1 : 0));
    if (p.countUnclipped) words.back() = norm <= p.l2ClipNorm ? 1 : 0; // exact: n <= n (Q - 1) < M
    for (std::size_t i = 0; i < update.size(); ++i) {
        double x = scale * double(update[i]);
        if (std::isnan(x)) x = 0;
        const double y = (std::clamp(x, -c, c) + c) * perStep;
        const double f = std::floor(y);
        std::uint64_t q = std::uint64_t(f) + (rounding.uniform() < y - f ? 1 : 0);
        words[i] = std::min(q, Q - 1);
    }
    applyMask(words, selfMaskKey(d->b), true, M);
    for (const auto &[peer, keys] : d->peers) {
        Key shared = sharedSecret(d->sSk, keys.second, round, peer);
        const Key key = pairMaskKey(shared, d->id, d->sPk, peer, keys.second);
        sodium_memzero(shared.data(), shared.size());
        applyMask(words, key, d->id < peer, M);
    }
    const int width = wordBytes(M);
    QByteArray packed(qsizetype(words.size()) * width, Qt::Uninitialized);
    auto *out = reinterpret_cast<unsigned char *>(packed.data());
    for (std::size_t i = 0; i < words.size(); ++i) {
        if (width == 4)
            qToLittleEndian(std::uint32_t(words[i]), out + 4 * i);
        else
            qToLittleEndian(words[i], out + 8 * i);
    }
    d->step = State::Step::Masked;
    return QCborValue(QCborMap{{QStringLiteral("id"), d->id}, {QStringLiteral("words"), packed}}).toCbor();
}

QByteArray SecAggClient::unmask(const QByteArray &request) {
    const int round = d->round();
    if (d->step != State::Step::Masked)
        fail(round, QStringLiteral("client %1 was asked to unmask out of order, or twice").arg(d->id));
    const QCborMap m = parseMessage(request, round, "unmask request").toMap();
    const std::vector<int> survivors = idsOf(m.value(QStringLiteral("survivors")), round, "survivors");
    const std::vector<int> dropped = idsOf(m.value(QStringLiteral("dropped")), round, "dropped");
    const std::set<int> alive(survivors.begin(), survivors.end()), gone(dropped.begin(), dropped.end());
    const std::vector<int> window = d->roster.window(d->id);
    // Every window member named exactly once; this client alive; at least t alive (else revealing shares of
    // b for some and of s_sk for others could help rebuild more than the sum).
    if (alive.size() != survivors.size() || gone.size() != dropped.size() ||
        alive.size() + gone.size() != window.size())
        fail(round, QStringLiteral("client %1 refuses to unmask: the request does not name each neighbour "
                                   "once")
                        .arg(d->id));
    for (int member : window)
        if (alive.count(member) == gone.count(member))
            fail(round, QStringLiteral("client %1 refuses to unmask: client %2 is named both or neither way")
                            .arg(d->id)
                            .arg(member));
    if (!alive.count(d->id))
        fail(round, QStringLiteral("client %1 refuses to unmask: it is named dropped").arg(d->id));
    if (int(alive.size()) < d->roster.t)
        fail(round, QStringLiteral("client %1 refuses to unmask: only %2 of its window survive, fewer than "
                                   "secure_aggregation.reconstruction_threshold %3")
                        .arg(d->id)
                        .arg(alive.size())
                        .arg(d->roster.t));
    QCborArray out;
    out.append(QCborMap{{QStringLiteral("owner"), d->id},
                        {QStringLiteral("kind"), 0},
                        {QStringLiteral("share"), bytesOf(d->ownShareB)}});
    for (const auto &[owner, ct] : d->received) {
        unsigned char plain[kSharePlaintext];
        const auto *c = reinterpret_cast<const unsigned char *>(ct.constData());
        if (ct.size() != qsizetype(crypto_box_NONCEBYTES + crypto_box_MACBYTES + kSharePlaintext) ||
            crypto_box_open_easy(plain, c + crypto_box_NONCEBYTES,
                                 std::size_t(ct.size()) - crypto_box_NONCEBYTES, c,
                                 d->peers[owner].first.data(), d->cSk.data()) != 0)
            fail(round,
                 QStringLiteral("client %1 could not open the shares of client %2").arg(d->id).arg(owner));
        if (getInt32(plain) != owner || getInt32(plain + 4) != d->id || getInt32(plain + 8) != round ||
            plain[12] != d->roster.shareNumber(owner, d->id))
            fail(round, QStringLiteral("client %1 got shares of client %2 meant for another client or round")
                            .arg(d->id)
                            .arg(owner));
        const bool survived = alive.count(owner) > 0;
        out.append(QCborMap{{QStringLiteral("owner"), owner},
                            {QStringLiteral("kind"), survived ? 0 : 1},
                            {QStringLiteral("share"),
                             QByteArray(reinterpret_cast<const char *>(plain + (survived ? 13 : 45)), 32)}});
        sodium_memzero(plain, sizeof plain);
    }
    d->step = State::Step::Unmasked;
    return QCborValue(out).toCbor();
}

// --- Server ------------------------------------------------------------------------------------------------

struct SecAggServer::State {
    Roster roster;
    std::size_t size = 0;
    std::map<int, std::pair<Key, Key>> keys;                      // client -> (c_pk, s_pk)
    std::map<int, std::vector<std::pair<int, QByteArray>>> inbox; // recipient -> [(sender, ciphertext)]
    std::set<int> shared, inputs, revealed;
    std::vector<std::uint64_t> sum; // of the masked inputs so far, mod M
    bool closed = false, finished = false;
    std::vector<int> survivors, dropped;
    std::map<int, std::vector<std::pair<int, Key>>> sharesB, sharesSk; // owner -> (x, share)

    int round() const { return roster.round; }
    void participant(int client) const {
        if (roster.position(client) < 0)
            fail(round(), QStringLiteral("client %1 is not a participant").arg(client));
    }
    bool survived(int client) const { return inputs.count(client) > 0; }
    // The members of `owner`'s window that survived (itself included when it did).
    int holders(int owner) const {
        int h = 0;
        for (int member : roster.window(owner))
            h += survived(member);
        return h;
    }
};

SecAggServer::SecAggServer(int round, std::vector<int> participants, const SecAggParams &params,
                           std::size_t size)
    : d(std::make_unique<State>()) {
    ensureCrypto();
    d->roster = makeRoster(round, std::move(participants), params);
    d->size = size;
    d->sum.assign(size, 0);
}

SecAggServer::~SecAggServer() = default;

const std::vector<int> &SecAggServer::participants() const {
    return d->roster.ids;
}
int SecAggServer::windowSize() const {
    return d->roster.k;
}
int SecAggServer::threshold() const {
    return d->roster.t;
}
std::vector<int> SecAggServer::window(int client) const {
    d->participant(client);
    return d->roster.window(client);
}
const std::vector<int> &SecAggServer::survivors() const {
    return d->survivors;
}
const std::vector<int> &SecAggServer::dropped() const {
    return d->dropped;
}

QByteArray SecAggServer::setup() const {
    const SecAggParams &p = d->roster.params;
    return QCborValue(QCborMap{{QStringLiteral("round"), d->round()},
                               {QStringLiteral("participants"), idArray(d->roster.ids)},
                               {QStringLiteral("num_shares"), d->roster.k},
                               {QStringLiteral("reconstruction_threshold"), d->roster.t},
                               {QStringLiteral("clipping_range"), p.clippingRange},
                               {QStringLiteral("quantization_range"), qint64(p.quantizationRange)},
                               {QStringLiteral("modulus_range"), qint64(p.modulusRange)},
                               {QStringLiteral("l2_clip_norm"), p.l2ClipNorm},
                               {QStringLiteral("count_unclipped"), p.countUnclipped}})
        .toCbor();
}

void SecAggServer::receivePublicKeys(int client, const QByteArray &message) {
    d->participant(client);
    const QCborMap m = parseMessage(message, d->round(), "public keys").toMap();
    if (cborInteger(m.value(QStringLiteral("id")), 0) != client || d->keys.count(client))
        fail(d->round(), QStringLiteral("client %1 sent public keys twice or under another id").arg(client));
    d->keys[client] = {keyOf(m.value(QStringLiteral("c_pk")), d->round(), "public key"),
                       keyOf(m.value(QStringLiteral("s_pk")), d->round(), "public key")};
}

QByteArray SecAggServer::publicKeysFor(int client) const {
    d->participant(client);
    QCborArray out;
    for (int member : d->roster.window(client)) {
        if (member == client) continue;
        const auto it = d->keys.find(member);
        if (it == d->keys.end())
            fail(d->round(), QStringLiteral("client %1 sent no public keys").arg(member));
        out.append(QCborMap{{QStringLiteral("id"), member},
                            {QStringLiteral("c_pk"), bytesOf(it->second.first)},
                            {QStringLiteral("s_pk"), bytesOf(it->second.second)}});
    }
    return QCborValue(out).toCbor();
}

void SecAggServer::receiveShares(int client, const QByteArray &message) {
    d->participant(client);
    if (d->shared.count(client))
        fail(d->round(), QStringLiteral("client %1 sent its shares twice").arg(client));
    std::set<int> to;
    for (const QCborValue &v : parseMessage(message, d->round(), "shares").toArray()) {
        const QCborMap e = v.toMap();
        const int holder = int(cborInteger(e.value(QStringLiteral("to")), 0));
        if (holder == client || d->roster.position(holder) < 0 || !d->roster.inWindow(client, holder) ||
            !to.insert(holder).second)
            fail(d->round(), QStringLiteral("client %1 sent a share to client %2, who is not its neighbour")
                                 .arg(client)
                                 .arg(holder));
        d->inbox[holder].emplace_back(client, e.value(QStringLiteral("ct")).toByteArray());
    }
    if (int(to.size()) != d->roster.k - 1)
        fail(d->round(), QStringLiteral("client %1 sent %2 shares for %3 neighbours")
                             .arg(client)
                             .arg(to.size())
                             .arg(d->roster.k - 1));
    d->shared.insert(client);
}

QByteArray SecAggServer::ciphertextsFor(int client) const {
    d->participant(client);
    for (int member : d->roster.window(client))
        if (!d->shared.count(member))
            fail(d->round(), QStringLiteral("client %1 did not distribute its shares").arg(member));
    QCborArray out;
    for (const auto &[from, ct] : d->inbox[client])
        out.append(QCborMap{{QStringLiteral("from"), from}, {QStringLiteral("ct"), ct}});
    return QCborValue(out).toCbor();
}

void SecAggServer::receiveMaskedInput(int client, const QByteArray &message) {
    d->participant(client);
    if (d->closed || d->inputs.count(client))
        fail(d->round(), QStringLiteral("client %1's masked input came twice or too late").arg(client));
    const QCborMap m = parseMessage(message, d->round(), "masked input").toMap();
    const QByteArray packed = m.value(QStringLiteral("words")).toByteArray();
    const std::uint64_t M = d->roster.params.modulusRange;
    const int width = wordBytes(M);
    if (cborInteger(m.value(QStringLiteral("id")), 0) != client ||
        packed.size() != qsizetype(d->size) * width)
        fail(d->round(), QStringLiteral("client %1's masked input has %2 bytes, expected %3")
                             .arg(client)
                             .arg(packed.size())
                             .arg(qsizetype(d->size) * width));
    const auto *in = reinterpret_cast<const unsigned char *>(packed.constData());
    for (std::size_t i = 0; i < d->size; ++i) {
        const std::uint64_t w = width == 4 ? qFromLittleEndian<std::uint32_t>(in + 4 * i)
                                           : qFromLittleEndian<std::uint64_t>(in + 8 * i);
        if (w >= M)
            fail(d->round(),
                 QStringLiteral("client %1's masked input has a word >= modulus_range").arg(client));
        std::uint64_t &a = d->sum[i];
        a = a >= M - w ? a - (M - w) : a + w;
    }
    d->inputs.insert(client);
}

void SecAggServer::closeInputs() {
    if (d->closed) return;
    d->closed = true;
    for (int id : d->roster.ids)
        (d->survived(id) ? d->survivors : d->dropped).push_back(id);
    const int t = d->roster.t;
    if (d->survivors.empty())
        fail(d->round(), QStringLiteral("all %1 clients dropped; nothing arrived to sum").arg(d->roster.n()));
    // Every secret the unmasking needs must have t surviving holders: the mask key of each dropped client,
    // the self-mask seed of each survivor.
    const auto require = [&](const std::vector<int> &owners, const auto &shortOf) {
        for (int id : owners)
            if (const int h = d->holders(id); h < t)
                fail(d->round(),
                     shortOf(id, h) + QStringLiteral("; secure_aggregation.reconstruction_threshold is %1 "
                                                     "(lower it, or raise secure_aggregation.num_shares, to "
                                                     "recover from more dropouts)")
                                          .arg(t));
    };
    require(d->dropped, [&](int id, int h) {
        return QStringLiteral("client %1 dropped and only %2 of its %3 share holders remain")
            .arg(id)
            .arg(h)
            .arg(d->roster.k - 1);
    });
    require(d->survivors, [&](int id, int h) {
        return QStringLiteral("the self mask of client %1 cannot be removed: only %2 of its %3 share holders "
                              "(itself included) remain")
            .arg(id)
            .arg(h)
            .arg(d->roster.k);
    });
}

QByteArray SecAggServer::unmaskRequestFor(int survivor) const {
    d->participant(survivor);
    if (!d->closed || !d->survived(survivor))
        fail(d->round(), QStringLiteral("client %1 is not a survivor of step 3").arg(survivor));
    std::vector<int> alive, gone;
    for (int member : d->roster.window(survivor))
        (d->survived(member) ? alive : gone).push_back(member);
    return QCborValue(QCborMap{{QStringLiteral("survivors"), idArray(alive)},
                               {QStringLiteral("dropped"), idArray(gone)}})
        .toCbor();
}

void SecAggServer::receiveRevealedShares(int survivor, const QByteArray &message) {
    d->participant(survivor);
    if (!d->closed || !d->survived(survivor) || !d->revealed.insert(survivor).second)
        fail(d->round(), QStringLiteral("client %1 revealed shares out of order or twice").arg(survivor));
    std::set<int> owners;
    for (const QCborValue &v : parseMessage(message, d->round(), "revealed shares").toArray()) {
        const QCborMap e = v.toMap();
        const int owner = int(cborInteger(e.value(QStringLiteral("owner")), 0));
        const qint64 kind = cborInteger(e.value(QStringLiteral("kind")), -1);
        if (d->roster.position(owner) < 0 || !d->roster.inWindow(owner, survivor) ||
            !owners.insert(owner).second || kind != (d->survived(owner) ? 0 : 1))
            fail(d->round(), QStringLiteral("client %1 revealed a share of client %2 it was not asked for")
                                 .arg(survivor)
                                 .arg(owner));
        auto &store = kind == 0 ? d->sharesB : d->sharesSk;
        store[owner].emplace_back(d->roster.shareNumber(owner, survivor),
                                  keyOf(e.value(QStringLiteral("share")), d->round(), "share"));
    }
}

std::vector<std::uint64_t> SecAggServer::unmaskedSum() {
    if (!d->closed || d->finished)
        fail(d->round(), QStringLiteral("the sum was asked for before step 3 ended, or twice"));
    for (int id : d->survivors)
        if (!d->revealed.count(id)) fail(d->round(), QStringLiteral("client %1 revealed no shares").arg(id));
    const int t = d->roster.t;
    const std::uint64_t M = d->roster.params.modulusRange;
    const auto needShares = [&](const std::vector<std::pair<int, Key>> &shares, int owner) {
        if (int(shares.size()) < t)
            fail(d->round(), QStringLiteral("only %1 shares of client %2's secret arrived; "
                                            "secure_aggregation.reconstruction_threshold is %3")
                                 .arg(shares.size())
                                 .arg(owner)
                                 .arg(t));
    };
    std::vector<std::uint64_t> sum = d->sum;
    for (int id : d->survivors) { // remove PRG(b_id)
        needShares(d->sharesB[id], id);
        Key b = combineShares(d->sharesB[id], t);
        applyMask(sum, selfMaskKey(b), false, M);
        sodium_memzero(b.data(), b.size());
    }
    for (int id : d->dropped) { // remove the pairwise masks its surviving neighbours added
        needShares(d->sharesSk[id], id);
        Key sk = combineShares(d->sharesSk[id], t);
        const Key &pk = d->keys[id].second;
        Key check;
        crypto_scalarmult_base(check.data(), sk.data());
        if (sodium_memcmp(check.data(), pk.data(), 32) != 0)
            fail(d->round(),
                 QStringLiteral("the mask key rebuilt for client %1 does not match its public key").arg(id));
        for (int j : d->roster.window(id)) {
            if (j == id || !d->survived(j)) continue;
            Key shared = sharedSecret(sk, d->keys[j].second, d->round(), j);
            // Survivor j added PRG when j < id and subtracted it otherwise: undo that.
            applyMask(sum, pairMaskKey(shared, id, pk, j, d->keys[j].second), j > id, M);
            sodium_memzero(shared.data(), shared.size());
        }
        sodium_memzero(sk.data(), sk.size());
    }
    d->finished = true;
    return sum;
}

std::vector<double> SecAggServer::dequantize(const std::vector<std::uint64_t> &sum) const {
    const double step = d->roster.params.step();
    const double offset = double(d->survivors.size()) * d->roster.params.clippingRange;
    std::vector<double> out(sum.size());
    for (std::size_t i = 0; i < sum.size(); ++i)
        out[i] = double(sum[i]) * step - offset;
    return out;
}

// --- The driver
// ---------------------------------------------------------------------------------------------

QJsonObject SecAggStepCost::toJson() const {
    return {{QStringLiteral("bytes_up"), qint64(bytesUp)},
            {QStringLiteral("bytes_down"), qint64(bytesDown)},
            {QStringLiteral("seconds"), seconds},
            {QStringLiteral("client_seconds_max"), clientSecondsMax},
            {QStringLiteral("server_seconds"), serverSeconds}};
}

std::int64_t SecAggReport::bytesUp() const {
    return advertiseKeys.bytesUp + shareKeys.bytesUp + maskedInput.bytesUp + unmask.bytesUp;
}
std::int64_t SecAggReport::bytesDown() const {
    return advertiseKeys.bytesDown + shareKeys.bytesDown + maskedInput.bytesDown + unmask.bytesDown;
}
double SecAggReport::seconds() const {
    return advertiseKeys.seconds + shareKeys.seconds + maskedInput.seconds + unmask.seconds;
}

QJsonObject SecAggReport::toJson() const {
    QJsonArray gone;
    for (int id : dropped)
        gone.append(id);
    QJsonObject o{
        {QStringLiteral("status"), !ok            ? QStringLiteral("failed")
                                   : clients == 0 ? QStringLiteral("no-clients")
                                                  : QStringLiteral("ok")},
        {QStringLiteral("clients"), clients},
        {QStringLiteral("survivors"), int(survivors.size())},
        {QStringLiteral("dropped"), gone},
        {QStringLiteral("num_shares"), windowSize},
        {QStringLiteral("reconstruction_threshold"), threshold},
        {QStringLiteral("steps"), QJsonObject{{QStringLiteral("advertise_keys"), advertiseKeys.toJson()},
                                              {QStringLiteral("share_keys"), shareKeys.toJson()},
                                              {QStringLiteral("masked_input"), maskedInput.toJson()},
                                              {QStringLiteral("unmask"), unmask.toJson()}}},
        {QStringLiteral("bytes_up"), qint64(bytesUp())},
        {QStringLiteral("bytes_down"), qint64(bytesDown())},
        {QStringLiteral("seconds"), seconds()}};
    if (!ok) o.insert(QStringLiteral("reason"), failure);
    return o;
}

namespace {

// Adds the wall time of f() to `seconds` (also when f throws) and returns what f returns.
template <typename F> auto timed(double &seconds, F &&f) {
    struct Add {
        double &seconds;
        QElapsedTimer clock;
        ~Add() { seconds += double(clock.nsecsElapsed()) * 1e-9; }
    } add{seconds, {}};
    add.clock.start();
    return f();
}

} // namespace

SecAggReport runSecureAggregation(const SecAggParams &params, int round, std::uint64_t seed,
                                  const std::vector<SecAggInput> &inputs, std::size_t size) {
    SecAggReport report;
    report.round = round;
    report.clients = int(inputs.size());
    if (inputs.empty()) { // nobody to sum: an exact zero
        report.ok = true;
        report.modularSum.assign(size, 0);
        report.sum.assign(size, 0.0);
        return report;
    }
    std::vector<SecAggInput> sorted = inputs;
    std::sort(sorted.begin(), sorted.end(),
              [](const SecAggInput &a, const SecAggInput &b) { return a.clientId < b.clientId; });
    std::vector<int> ids;
    for (const SecAggInput &in : sorted) {
        ids.push_back(in.clientId);
        (in.dropped ? report.dropped : report.survivors).push_back(in.clientId);
        if (!in.dropped && in.update.size() != size)
            throw std::invalid_argument("secure aggregation: client " + std::to_string(in.clientId) +
                                        "'s update has " + std::to_string(in.update.size()) +
                                        " values, the model " + std::to_string(size));
    }
    const std::size_t extra = params.countUnclipped ? 1 : 0; // adaptive clipping's count word
    std::unique_ptr<SecAggServer> server;
    std::vector<std::unique_ptr<SecAggClient>> clients;
    // One step: each client that takes part gets the server's message to it and answers; the server's own
    // work after the exchange (`after`) belongs to the step too.
    const auto exchange = [&](SecAggStepCost &cost, bool survivorsOnly,
                              const std::function<QByteArray(std::size_t)> &down,
                              const std::function<QByteArray(std::size_t, const QByteArray &)> &answer,
                              const std::function<void(std::size_t, const QByteArray &)> &up,
                              const std::function<void()> &after = {}) {
        timed(cost.seconds, [&] {
            for (std::size_t i = 0; i < ids.size(); ++i) {
                if (survivorsOnly && sorted[i].dropped) continue;
                const QByteArray message = timed(cost.serverSeconds, [&] { return down(i); });
                double clientSeconds = 0;
                const QByteArray reply = timed(clientSeconds, [&] { return answer(i, message); });
                cost.clientSecondsMax = std::max(cost.clientSecondsMax, clientSeconds);
                cost.bytesDown += message.size();
                cost.bytesUp += reply.size();
                timed(cost.serverSeconds, [&] { up(i, reply); });
            }
            if (after) timed(cost.serverSeconds, after);
        });
    };
    try {
        timed(report.advertiseKeys.seconds, [&] {
            timed(report.advertiseKeys.serverSeconds,
                  [&] { server = std::make_unique<SecAggServer>(round, ids, params, size + extra); });
            for (int id : ids)
                clients.push_back(std::make_unique<SecAggClient>(id));
        });
        report.windowSize = server->windowSize();
        report.threshold = server->threshold();
        exchange(
            report.advertiseKeys, false, [&](std::size_t) { return server->setup(); },
            [&](std::size_t i, const QByteArray &m) { return clients[i]->advertiseKeys(m); },
            [&](std::size_t i, const QByteArray &a) { server->receivePublicKeys(ids[i], a); });
        exchange(
            report.shareKeys, false, [&](std::size_t i) { return server->publicKeysFor(ids[i]); },
            [&](std::size_t i, const QByteArray &m) { return clients[i]->shareKeys(m); },
            [&](std::size_t i, const QByteArray &a) { server->receiveShares(ids[i], a); });
        // A dropped client is gone after sharing its keys: it gets nothing more and sends nothing.
        exchange(
            report.maskedInput, true, [&](std::size_t i) { return server->ciphertextsFor(ids[i]); },
            [&](std::size_t i, const QByteArray &m) {
                return clients[i]->maskedInput(m, sorted[i].update,
                                               deriveSeed(seed, "secagg-quantize", round, ids[i]));
            },
            [&](std::size_t i, const QByteArray &a) { server->receiveMaskedInput(ids[i], a); },
            [&] { server->closeInputs(); });
        exchange(
            report.unmask, true, [&](std::size_t i) { return server->unmaskRequestFor(ids[i]); },
            [&](std::size_t i, const QByteArray &m) { return clients[i]->unmask(m); },
            [&](std::size_t i, const QByteArray &a) { server->receiveRevealedShares(ids[i], a); },
            [&] {
                report.modularSum = server->unmaskedSum();
                if (extra) { // the count word is an integer sum, not on the grid
                    report.unclipped = int(report.modularSum.back());
                    report.modularSum.pop_back();
                }
                report.sum = server->dequantize(report.modularSum);
            });
        report.ok = true;
    } catch (const SecAggFailure &e) {
        report.ok = false;
        report.failure = QString::fromStdString(e.what());
        report.modularSum.clear();
        report.sum.clear();
    }
    return report;
}

// --- The round's mean ------------------------------------------------------------------------------------

SecureSumMean::SecureSumMean(GaussianSumMean::ClippedSum sum, GaussianSumMean *dp)
    : m_sum(std::move(sum))
    , m_dp(dp) {}

std::vector<double> SecureSumMean::mean(const std::vector<ClientUpdate> &, std::size_t size, int round) {
    if (m_sum.sum.size() != size)
        throw std::invalid_argument("secure aggregation: the secure sum has " +
                                    std::to_string(m_sum.sum.size()) + " values, the model " +
                                    std::to_string(size));
    if (m_dp) return m_dp->release(m_sum, round);
    if (!(m_sum.count > 0)) return {};
    std::vector<double> mean = m_sum.sum;
    for (double &v : mean)
        v /= m_sum.count;
    return mean;
}

// --- The workspace section ---------------------------------------------------------------------------------

std::optional<SecAggParams> secureAggregationFor(const FederationSpec &spec) {
    if (!spec.boolean(QStringLiteral("secure_aggregation.enabled"))) return std::nullopt;
    SecAggParams p;
    p.numShares = int(spec.integer(QStringLiteral("secure_aggregation.num_shares")));
    p.reconstructionThreshold =
        int(spec.integer(QStringLiteral("secure_aggregation.reconstruction_threshold")));
    p.clippingRange = spec.real(QStringLiteral("secure_aggregation.clipping_range"));
    p.quantizationRange =
        std::uint64_t(spec.integer(QStringLiteral("secure_aggregation.quantization_range")));
    p.modulusRange = std::uint64_t(spec.integer(QStringLiteral("secure_aggregation.modulus_range")));
    return p;
}

namespace {

const QString kNumShares = QStringLiteral("secure_aggregation.num_shares");
const QString kThreshold = QStringLiteral("secure_aggregation.reconstruction_threshold");
const QString kModulus = QStringLiteral("secure_aggregation.modulus_range");

// n (Q - 1) <= M - 1, without overflow.
bool sumFits(std::uint64_t n, const SecAggParams &p) {
    return n >= 1 && p.quantizationRange >= 1 && p.quantizationRange - 1 <= (p.modulusRange - 1) / n;
}

QString overflowText(const QString &roundSize, std::uint64_t n, const SecAggParams &p) {
    const double product = double(n) * double(p.quantizationRange - 1);
    return QStringLiteral("%1 (%2) * (secure_aggregation.quantization_range - 1) = %3 must be below "
                          "secure_aggregation.modulus_range (%4), or the sum of the quantized updates wraps "
                          "around; lower secure_aggregation.quantization_range to at most %5 or raise "
                          "secure_aggregation.modulus_range to at least %6")
        .arg(roundSize)
        .arg(n)
        .arg(product, 0, 'f', 0)
        .arg(p.modulusRange)
        .arg((p.modulusRange - 1) / n + 1)
        .arg(product + 1, 0, 'f', 0);
}

void checkSecureAggregation(const FederationSpec &spec, QList<SpecIssue> &errors,
                            QList<SpecIssue> &warnings) {
    const std::optional<SecAggParams> sa = secureAggregationFor(spec);
    if (!sa) return;
    const SecAggParams &p = *sa;
    const Registry &reg = Registry::global();
    const QString strategy = spec.string(QStringLiteral("strategy.name"));
    if (const ComponentSchema *entry = reg.component(QStringLiteral("strategy"), strategy);
        entry && !entry->has(QStringLiteral("private-mean")))
        errors.append({QStringLiteral("secure_aggregation.enabled"),
                       QStringLiteral("secure aggregation shows the server only the sum of the updates, but "
                                      "strategy.name '%1' needs each client's own update; with "
                                      "secure_aggregation.enabled true, strategy.name must be one of: %2")
                           .arg(strategy, privateMeanStrategies().join(QStringLiteral(", ")))});
    if (strategy == QLatin1String("fedavg") &&
        spec.string(QStringLiteral("strategy.weighting")) == QLatin1String("samples"))
        warnings.append({QStringLiteral("strategy.weighting"),
                         QStringLiteral("with secure_aggregation.enabled every client counts equally (the "
                                        "server sees only the sum of the updates); 'samples' is not used")});

    if (p.numShares == 1 || p.numShares == 2)
        errors.append(
            {kNumShares, QStringLiteral("%1 is too small: a window holds the client and at least one "
                                        "neighbour on each side; allowed: 0 (every client of the "
                                        "round) or an odd number in [3, %2]")
                             .arg(p.numShares)
                             .arg(kMaxWindow)});
    if (p.reconstructionThreshold == 1)
        errors.append(
            {kThreshold, QStringLiteral("1 would let any one client holding a share rebuild a secret "
                                        "alone; allowed: 0 (a majority of num_shares) or an integer "
                                        "in [2, num_shares]")});

    if (spec.poissonSampling()) {
        // The round size varies: what can be checked is the settings; rounds that do not fit fail alone.
        const double expected = spec.samplingRate() * double(spec.clientCount());
        if (p.numShares > 2 && p.numShares % 2 == 0)
            errors.append(
                {kNumShares, QStringLiteral("%1 is even; with clients.sampling poisson the round size "
                                            "varies, so the window must be odd; allowed: 0 (every "
                                            "client of the round) or an odd number in [3, %2]")
                                 .arg(p.numShares)
                                 .arg(kMaxWindow)});
        if (p.numShares > 2 && p.reconstructionThreshold > p.numShares)
            errors.append(
                {kThreshold, QStringLiteral("%1 is more than secure_aggregation.num_shares (%2), the "
                                            "clients holding shares of one secret; allowed: 0 (a "
                                            "majority) or an integer in [2, %2]")
                                 .arg(p.reconstructionThreshold)
                                 .arg(p.numShares)});
        const std::uint64_t expectedSize = std::uint64_t(std::ceil(expected));
        if (!sumFits(std::max<std::uint64_t>(expectedSize, 1), p))
            errors.append({kModulus, overflowText(QStringLiteral("the expected round size"),
                                                  std::max<std::uint64_t>(expectedSize, 1), p)});
        else if (!sumFits(std::uint64_t(spec.clientCount()), p))
            warnings.append(
                {kModulus, QStringLiteral("a Poisson round with more than %1 clients fails: its sum "
                                          "would wrap around secure_aggregation.modulus_range")
                               .arg((p.modulusRange - 1) / (p.quantizationRange - 1))});
        if (p.numShares == 0 && spec.clientCount() > kMaxWindow)
            warnings.append(
                {kNumShares, QStringLiteral("0 puts every client of a round in one window; a Poisson "
                                            "round with more than %1 clients then fails (Shamir shares "
                                            "over GF(2^8)); an odd num_shares in [3, %1] avoids it")
                                 .arg(kMaxWindow)});
        const int t = p.reconstructionThreshold > 0 ? p.reconstructionThreshold : 2;
        if (expected < double(t))
            warnings.append(
                {QStringLiteral("clients.per_round"),
                 QStringLiteral("the expected round size %1 is below %2: rounds with fewer clients "
                                "than secure aggregation needs fail and leave the model unchanged")
                     .arg(expected, 0, 'g', 4)
                     .arg(t)});
        return;
    }

    const int n = spec.clientsPerRound();
    if (n < 2) {
        errors.append({QStringLiteral("clients.per_round"),
                       QStringLiteral("secure aggregation needs at least 2 clients per round (the sum of one "
                                      "update is that update); allowed with secure_aggregation.enabled: 2 or "
                                      "more")});
        return;
    }
    const int k = p.numShares == 0 ? n : p.numShares;
    if (p.numShares > n)
        errors.append(
            {kNumShares, QStringLiteral("%1 is more than the %2 clients of a round (clients.per_round); "
                                        "allowed: 0 (every client of the round), %2, or an odd "
                                        "number in [3, %3]")
                             .arg(p.numShares)
                             .arg(n)
                             .arg(std::min(n, kMaxWindow))});
    else if (p.numShares > 2 && p.numShares < n && p.numShares % 2 == 0)
        errors.append(
            {kNumShares, QStringLiteral("%1 is even, but a window is the client and (num_shares - 1) / 2 "
                                        "neighbours on each side; allowed: 0 (every client of the "
                                        "round), %2, or an odd number in [3, %3]")
                             .arg(p.numShares)
                             .arg(n)
                             .arg(std::min(n, kMaxWindow))});
    else if (k > kMaxWindow)
        errors.append(
            {kNumShares, QStringLiteral("a window of %1 clients is more than the %2 share holders "
                                        "Shamir shares over GF(2^8) allow; allowed: an odd number in "
                                        "[3, %2]")
                             .arg(k)
                             .arg(kMaxWindow)});
    if (p.reconstructionThreshold > std::min(k, n))
        errors.append({kThreshold, QStringLiteral("%1 is more than secure_aggregation.num_shares (%2), the "
                                                  "clients holding shares of one secret; allowed: 0 (a "
                                                  "majority) or an integer in [2, %2]")
                                       .arg(p.reconstructionThreshold)
                                       .arg(std::min(k, n))});
    if (!sumFits(std::uint64_t(n), p))
        errors.append({kModulus, overflowText(QStringLiteral("clients.per_round"), std::uint64_t(n), p)});
}

} // namespace

void registerSecureAggregation(Registry &registry) {
    ParamSchema enabled = boolParam(QStringLiteral("enabled"), false,
                                    QStringLiteral("Sum the updates under masks, so the server learns only "
                                                   "their sum, never one client's update."));
    enabled.explanation = QStringLiteral(
        "With secure aggregation the server cannot look at any single client's update: each client hides "
        "its update under random masks that cancel only when all updates are added up. Clients that drop "
        "out mid-round are recovered from secret shares their neighbours hold. The price: more messages "
        "per round, updates rounded to a fixed grid, and only strategies that average the updates can "
        "use it (robust ones like krum or median need every update on its own). Every client counts "
        "equally. Simulated in this process: the protocol and its costs are real, the network is not.");
    // num_shares and reconstruction_threshold: both count clients of a window, 0 has its own meaning.
    const auto windowCount = [](const char *key, const QString &help, const QString &zero,
                                const QString &explanation) {
        ParamSchema p = intParam(QLatin1String(key), 0, 0, kMaxWindow, help, QStringLiteral("clients"), zero);
        p.explanation = explanation;
        return p;
    };
    const ParamSchema shares = windowCount(
        "num_shares",
        QStringLiteral("How many clients, the client itself included, hold a share of each client's secrets "
                       "(its ring window of neighbours); 0 = every client of the round."),
        QStringLiteral("every client of the round"),
        QStringLiteral(
            "Each client is masked against its neighbours and gives each of them a piece of its secrets, so "
            "the round survives dropouts. More neighbours tolerate more dropouts and cost more messages and "
            "time. The clients of a round sit on a ring in id order; a window is the client and (num_shares "
            "- "
            "1) / 2 neighbours on each side (SecAgg+), so the number is odd unless it covers the whole "
            "round. "
            "As in Flower, the count includes the client itself. At most 255 (Shamir shares over GF(2^8))."));
    const ParamSchema threshold = windowCount(
        "reconstruction_threshold",
        QStringLiteral("How many of a window's clients must survive to rebuild a secret; 0 = a majority of "
                       "num_shares (floor(num_shares / 2) + 1)."),
        QStringLiteral("a majority of num_shares"),
        QStringLiteral(
            "A higher threshold protects better (more clients would have to collude with the server to "
            "unmask "
            "one update) but tolerates fewer dropouts: a round in which some client's secret has fewer "
            "surviving share holders than this fails and leaves the model unchanged. Between 2 and "
            "num_shares."));
    // The grid: c, Q and M (Flower's defaults).
    ParamSchema clipping = realParam(
        QStringLiteral("clipping_range"), 8.0, 0.0, 1e6,
        QStringLiteral("Every coordinate of an update is clipped to [-clipping_range, clipping_range] before "
                       "it is rounded to an integer."),
        {}, true);
    ParamSchema quantization =
        intParam(QStringLiteral("quantization_range"), 4194304, 2, 4503599627370496,
                 QStringLiteral("The number of grid points: coordinates become integers in [0, "
                                "quantization_range - 1] (stochastic rounding)."));
    ParamSchema modulus =
        intParam(QStringLiteral("modulus_range"), 4294967296, 2, 9007199254740992,
                 QStringLiteral("Masks and sums are taken modulo this number; masked values "
                                "travel as 4 bytes up to 2^32, else 8."));
    clipping.explanation = QStringLiteral(
        "Masks work on whole numbers, so updates are put on a grid first. Values outside the range are cut "
        "off (which biases the mean if it happens often); a wider range makes the grid coarser.");
    quantization.explanation = QStringLiteral(
        "More points give a finer grid: each coordinate of the sum is within clients * 2 * "
        "clipping_range / (quantization_range - 1) of the exact sum. The default 2^22 puts the "
        "grid 3.8e-6 apart. The sum of a round's integers must stay below modulus_range.");
    modulus.explanation = QStringLiteral(
        "Masks are uniform random numbers below modulus_range, so a masked update looks like noise. It must "
        "exceed clients per round * (quantization_range - 1), or the sum wraps around; the default 2^32 with "
        "the default quantization_range allows up to 1024 clients per round.");
    SectionSchema section{QStringLiteral("secure_aggregation"),
                          {},
                          QStringLiteral("Secure aggregation (SecAgg+): the server sees only the sum of the "
                                         "updates."),
                          {enabled, shares, threshold, clipping, quantization, modulus}};
    section.check = checkSecureAggregation;
    section.explanation = QStringLiteral(
        "Protects the clients from a curious server: the server learns the sum of the round's updates but "
        "none of them on its own. It does not limit what the finished model reveals; that is what "
        "differential privacy is for, and the two can be combined. Try it to see its costs: more messages, "
        "rounding of the updates, and rounds that fail when too many clients drop out.");
    registry.addSection(std::move(section));
}

} // namespace fedwb::privacy
