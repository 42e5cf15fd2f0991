// Secure aggregation: the server learns the sum of the round's updates and nothing about any one of them.
// Pairwise masking with dropout recovery after Bonawitz et al. 2017 ("Practical Secure Aggregation for
// Privacy-Preserving Machine Learning"), over the neighbour windows of SecAgg+ (Bell et al. 2020, "Secure
// Single-Server Aggregation with (Poly)Logarithmic Overhead"), with the parameters of Flower's
// SecAggPlusWorkflow (num_shares, reconstruction_threshold, clipping_range, quantization_range,
// modulus_range).
//
// One round, for the participants P sorted by client id and placed on a ring:
//   * Window. W(i) is the ring window of k = num_shares clients centred on i, INCLUDING i itself, as in
//     Flower ("each client sends one share to each of its neighbours while retaining one"): the (k - 1) / 2
//     clients before i and after i (so k is odd), or every client of the round when k = 0 or k >= |P|.
//     j is in W(i) exactly when i is in W(j).
//   * Advertise keys. Each client makes two X25519 key pairs (libsodium): (c_pk, c_sk) to encrypt its shares
//     and (s_pk, s_sk) for its pairwise masks, and sends the public halves to the server, which forwards
//     those of W(i) to i.
//   * Share keys. Each client draws a 32-byte self-mask seed b_i (randombytes_buf) and splits b_i and s_sk_i
//     into k Shamir shares with threshold t = reconstruction_threshold (libgfshare over GF(2^8), its random
//     coefficients from randombytes_buf), keeps its own share and sends one to every other member of W(i),
//     each encrypted to that member (crypto_box: X25519 + XSalsa20-Poly1305) and routed through the server.
//   * Masked input. y_i = q(x_i) + PRG(b_i) + sum_{j in W(i), j > i} PRG(s_ij) - sum_{j in W(i), j < i}
//     PRG(s_ij) mod M, where x_i is the update (first scaled to L2 norm <= privacy.clip_norm with central
//     DP), clipped per coordinate to [-c, c] and quantized to an integer in [0, Q - 1] by stochastic
//     rounding (generator keyed (seed, "secagg-quantize", round, client), so runs stay reproducible); s_ij is
//     the X25519 shared secret of s_sk_i and s_pk_j. PRG(seed) is the ChaCha20 (IETF) keystream under the
//     BLAKE2b hash (crypto_generichash) of a purpose label and the full 32-byte seed or shared secret. With
//     adaptive clipping (central DP) the vector has one more word, 1 when the update was within the round's
//     clip norm and 0 otherwise (an integer, not quantized), so that count is summed under the masks too.
//   * Unmask. Clients whose masked input never arrived dropped. Every survivor reveals, for each member of
//     its window, its share of b_j when j survived or of s_sk_j when j dropped (never both for one client).
//     The server rebuilds b_j of every survivor and removes PRG(b_j), and s_sk_j of every dropped client and
//     removes the pairwise masks its surviving neighbours added; the pairwise masks of surviving pairs
//     cancel. What is left is sum_i q(x_i) mod M, exact; dequantized it is the sum of the (clipped) updates
//     within |P_survived| * 2c / (Q - 1) per coordinate.
// A secret whose surviving share holders are fewer than t cannot be rebuilt: the round fails (no
// aggregate), with a message naming the round, the client and the keys.
//
// Words modulo M: a power of two takes the low bits of 32-bit (M <= 2^32) or 64-bit keystream words; any
// other M takes 64-bit words by rejection sampling (words at or above the largest multiple of M below 2^64
// are skipped): exactly uniform. M <= 2^53 (workspace numbers are doubles); masked words travel as 4 bytes
// when M <= 2^32, else 8.
//
// The classes below hold the two sides apart: SecAggClient keeps its secrets and its update; SecAggServer
// only ever receives public keys, ciphertexts, masked integer vectors and revealed shares. Messages are CBOR
// byte arrays; runSecureAggregation plays one round between them in this process and measures every step.
// libsodium and libgfshare stay inside the .cpp. Torch-free.
#pragma once

#include "privacy/CentralDp.h"
#include "strategy/Strategy.h"

#include <QByteArray>
#include <QJsonObject>
#include <QString>

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <stdexcept>
#include <vector>

namespace fedwb {

class FederationSpec;
class Registry;

namespace privacy {

// The protocol's settings (the workspace section secure_aggregation, resolved).
struct SecAggParams {
    int numShares = 0;               // the window, the client itself included; 0 = every client of the round
    int reconstructionThreshold = 0; // shares needed to rebuild a secret; 0 = a majority: floor(k / 2) + 1
    double clippingRange = 8.0;      // c: every coordinate is clipped to [-c, c]
    std::uint64_t quantizationRange = 4194304; // Q: coordinates become integers in [0, Q - 1]
    std::uint64_t modulusRange = 4294967296;   // M: masks and sums are taken modulo M
    double l2ClipNorm =
        0; // the round's clip norm under central DP: each client clips before quantizing; 0 = off
    // Adaptive clipping (privacy.adaptive_clipping): each client also sends whether its update was within
    // l2ClipNorm, as one more masked word (0 or 1, not quantized), so the count is summed securely too.
    bool countUnclipped = false;

    // The quantization step 2c / (Q - 1): each coordinate of the dequantized sum is within n * step of the
    // sum of n clipped updates.
    double step() const { return 2 * clippingRange / double(quantizationRange - 1); }
};

// The section's settings when secure_aggregation.enabled, else nullopt (l2ClipNorm and countUnclipped are
// left to the round loop).
std::optional<SecAggParams> secureAggregationFor(const FederationSpec &spec);

// A round that cannot be completed: too few share holders survive, the round is too small or too large for
// the settings, or a message breaks the protocol. what() is the user-facing reason.
class SecAggFailure : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// The client side of one round. Its secrets (key pairs, b_i, the shares it holds) and its update never
// leave it except as the messages below; they are wiped when it is destroyed. Every step throws
// SecAggFailure for a message that breaks the protocol.
class SecAggClient {
public:
    explicit SecAggClient(int clientId);
    ~SecAggClient();
    SecAggClient(const SecAggClient &) = delete;
    SecAggClient &operator=(const SecAggClient &) = delete;

    int clientId() const;
    // 1. Advertise keys: the server's setup (round, participants, settings) in; {id, c_pk, s_pk} out.
    QByteArray advertiseKeys(const QByteArray &setup);
    // 2. Share keys: the public keys of its window in; [{to, ct}] out, one ciphertext per other member of
    // its window holding that member's shares of b_i and s_sk_i.
    QByteArray shareKeys(const QByteArray &windowKeys);
    // 3. Masked input: the ciphertexts addressed to it ([{from, ct}]), its update and the key of its
    // stochastic-rounding generator in; {id, words} out (the masked vector, little-endian words).
    QByteArray maskedInput(const QByteArray &ciphertexts, std::span<const float> update,
                           std::uint64_t roundingKey);
    // 4. Unmask: the server's {survivors, dropped} (its window's members) in; [{owner, kind, share}] out,
    // kind 0 = b_owner for a survivor, 1 = s_sk_owner for a dropped client. Refuses a request that names a
    // client both ways or not at all, names this client dropped, or leaves fewer than threshold survivors.
    QByteArray unmask(const QByteArray &request);

private:
    struct State;
    std::unique_ptr<State> d;
};

// The server side of one round: routes messages and computes the sum. It never holds a plaintext update.
class SecAggServer {
public:
    // `size`: the length of every masked vector (the model's). Throws SecAggFailure when the round cannot
    // run with these settings (fewer than 2 clients, a window above 255 share holders, a threshold outside
    // [2, window], a sum that could wrap around M).
    SecAggServer(int round, std::vector<int> participants, const SecAggParams &params, std::size_t size);
    ~SecAggServer();
    SecAggServer(const SecAggServer &) = delete;
    SecAggServer &operator=(const SecAggServer &) = delete;

    const std::vector<int> &participants() const; // sorted
    int windowSize() const;                       // k after resolving 0 and a small round
    int threshold() const;                        // t after resolving 0
    // The members of `client`'s window (itself included), in ring order from its first member.
    std::vector<int> window(int client) const;

    QByteArray setup() const;                                       // 1. down, the same for every client
    void receivePublicKeys(int client, const QByteArray &message);  // 1. up
    QByteArray publicKeysFor(int client) const;                     // 2. down
    void receiveShares(int client, const QByteArray &message);      // 2. up
    QByteArray ciphertextsFor(int client) const;                    // 3. down
    void receiveMaskedInput(int client, const QByteArray &message); // 3. up
    // Ends step 3: participants without a masked input dropped. Throws SecAggFailure naming the first
    // secret that too few surviving share holders hold (the round then has no aggregate).
    void closeInputs();
    const std::vector<int> &survivors() const;
    const std::vector<int> &dropped() const;
    QByteArray unmaskRequestFor(int survivor) const;                     // 4. down
    void receiveRevealedShares(int survivor, const QByteArray &message); // 4. up
    // sum over survivors of q(x_i) mod M, once every survivor has revealed; throws SecAggFailure when a
    // secret cannot be rebuilt or a rebuilt mask key does not match its public key.
    std::vector<std::uint64_t> unmaskedSum();
    // The dequantized sum: word * step - survivors * c per coordinate.
    std::vector<double> dequantize(const std::vector<std::uint64_t> &sum) const;

private:
    struct State;
    std::unique_ptr<State> d;
};

// One client's part in a round: its update (empty for a dropped client), or dropped: it took part in the
// setup (advertised keys, distributed its shares) but its masked input never arrived.
struct SecAggInput {
    int clientId = -1;
    std::span<const float> update;
    bool dropped = false;
};

// What one protocol step cost in this in-process simulation.
struct SecAggStepCost {
    std::int64_t bytesUp = 0;   // client -> server messages
    std::int64_t bytesDown = 0; // server -> client messages
    double seconds = 0;         // compute of the step: every client (one after another) plus the server
    double clientSecondsMax = 0;
    double serverSeconds = 0;
    QJsonObject toJson() const;
};

struct SecAggReport {
    bool ok = false;
    QString failure; // the reason, when !ok
    int round = 0;
    int clients = 0; // participants
    int windowSize = 0, threshold = 0;
    std::vector<int> survivors, dropped;
    std::vector<std::uint64_t> modularSum; // sum of the survivors' quantized inputs mod M (when ok)
    std::vector<double> sum;               // dequantized: the sum of the survivors' clipped updates (when ok)
    int unclipped = 0; // with countUnclipped: how many survivors' updates were within l2ClipNorm
    SecAggStepCost advertiseKeys, shareKeys, maskedInput, unmask;

    std::int64_t bytesUp() const;
    std::int64_t bytesDown() const;
    double seconds() const;
    // {status: ok | failed | no-clients, reason?, clients, survivors, dropped: [ids], num_shares,
    //  reconstruction_threshold, steps: {advertise_keys, share_keys, masked_input, unmask: {bytes_up,
    //  bytes_down, seconds, client_seconds_max, server_seconds}}, bytes_up, bytes_down, seconds}
    QJsonObject toJson() const;
};

// Runs one round of the protocol between one SecAggClient per input and a SecAggServer. `size` is the
// update length (every surviving update must have it); `seed` the run's seed (stochastic rounding). A round
// without inputs is ok with a zero sum. Never throws SecAggFailure: a failed round is a report with !ok.
SecAggReport runSecureAggregation(const SecAggParams &params, int round, std::uint64_t seed,
                                  const std::vector<SecAggInput> &inputs, std::size_t size);

// The round's mean from its secure sum: sum / survivors, or with central DP (dp not null) dp->release(sum,
// round): Gaussian noise on the unmasked sum over DP's fixed denominator (and adaptive clipping's next clip
// norm from the securely summed count). Ignores the plaintext updates the strategy passes (they exist only
// because this simulator trains in-process), except to check the size.
class SecureSumMean : public PrivateMean {
public:
    // sum.count: the survivors.
    explicit SecureSumMean(GaussianSumMean::ClippedSum sum, GaussianSumMean *dp = nullptr);
    // Empty (no change) for no survivors without DP; throws std::invalid_argument for another size. Once
    // per round (with DP it releases, and adaptive clipping moves the clip norm).
    std::vector<double> mean(const std::vector<ClientUpdate> &updates, std::size_t size, int round) override;

private:
    GaussianSumMean::ClippedSum m_sum;
    GaussianSumMean *m_dp;
};

// The `secure_aggregation` section of the workspace schema (with its cross-field check).
void registerSecureAggregation(Registry &registry);

} // namespace privacy
} // namespace fedwb
