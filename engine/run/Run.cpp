#include "run/Run.h"

#include "adversary/Behaviour.h"
#include "adversary/poisoning_p.h"
#include "data/dataset_p.h"
#include "privacy/Accountant.h"
#include "privacy/CentralDp.h"
#include "privacy/LocalDp.h"
#include "privacy/PrivacyLedger.h"
#include "privacy/SecureAggregation.h"
#include "remote/Portable.h"
#include "remote/data_digest_p.h"
#include "run/RunState.h"
#include "run/local_executor_p.h"
#include "spec/Registry.h"
#include "spec/SpecError.h"
#include "strategy/Strategy.h"

#include <QElapsedTimer>
#include <QFile>
#include <QFileInfo>

#include <algorithm>
#include <cmath>
#include <limits>

namespace fedwb {

// The coordinator. One round: select -> tasks -> executor -> results -> strategy -> evaluate -> metrics ->
// checkpoint. Each step is one member function; the state that survives rounds is exactly a RunState.
struct Run::Impl {
    FederationSpec spec;
    std::vector<RunObserver *> observers;
    std::atomic<bool> stop{false};
    std::optional<RunState> resume;

    // Prepared by prepare():
    std::shared_ptr<const LoadedDataset> data;
    std::unique_ptr<LocalExecutor> executor; // evaluates; trains unless an executor factory is set
    ExecutorFactory executorFactory;
    std::unique_ptr<Executor> trainingExecutor; // the factory's, when set
    Executor *training = nullptr;               // where the clients train
    std::unique_ptr<Strategy> strategy;
    ClientAlgorithmRef algorithm;
    QList<StageRef> clientStages;
    UpdatePipeline serverStages;
    bool needStartLoss = false;
    bool personalState = false; // the client algorithm keeps personal layers or a personal model
    ModelLayout layout;
    std::shared_ptr<privacy::GaussianSumMean> dp;   // privacy.mode central: the mechanism
    std::optional<privacy::SecAggParams> secagg;    // secure_aggregation.enabled
    std::unique_ptr<privacy::PrivacyLedger> ledger; // privacy.mode central or local: epsilon so far
    QList<QList<StageRef>> localStages;             // privacy.mode local: per group, after clientStages
    bool budgetWarned = false;
    QList<ClientGroup> groups;
    std::vector<int> groupOfClient;
    std::vector<std::shared_ptr<const Behaviour>> behaviours; // of each group
    struct Backdoor {
        QString group;
        TriggeredSet testSet; // what its attack success rate is measured on
    };
    std::vector<Backdoor> backdoors; // one per group whose behaviour plants a backdoor
    // Carried from round to round (and in a RunState):
    int roundsDone = 0;
    QByteArray global;
    ClientStateStore clientStates;
    std::int64_t bytesUp = 0, bytesDown = 0;
    std::optional<double> lastAccuracy, lastLoss;
    int lastEvaluated = 0; // the round whose model lastAccuracy describes

    template <typename F> void notify(F &&f) {
        for (RunObserver *o : observers)
            f(*o);
    }
    void prepare();
    void execute(QElapsedTimer &clock, RunSummary &summary);
    std::vector<int> selectClients(int round) const;
    TrainingConfig trainingFor(int clientId, int round) const;
    // `payloadDown` is the strategy's payload of this round, computed once for all tasks.
    ClientTask taskFor(int clientId, int round, const QByteArray &payloadDown) const;
    QList<StageRef> stagesOf(int group) const;
    void coordinate(int round, const std::vector<ClientTask> &tasks,
                    const std::vector<std::size_t> &slotOfTask, std::vector<ClientResult> &results) const;
    std::vector<double> attackSuccess();
    void evaluate(int round, RoundMetrics &m, std::vector<ClientRoundMetrics> &clients);
    void diverged(RunSummary &summary, int round, const QString &what, double lr);
    RunState state() const;
};

Run::Run(FederationSpec spec)
    : d(std::make_unique<Impl>()) {
    d->spec = std::move(spec);
}

Run::~Run() = default;

const FederationSpec &Run::spec() const {
    return d->spec;
}
void Run::addObserver(RunObserver *observer) {
    d->observers.push_back(observer);
}
void Run::setExecutorFactory(ExecutorFactory factory) {
    d->executorFactory = std::move(factory);
}
void Run::requestStop() {
    d->stop.store(true); // the executor shares this flag
}

bool Run::resumeFrom(const QByteArray &runState, QString *error) {
    auto s = RunState::fromBytes(runState, error);
    if (!s) return false;
    const QString strategy = d->spec.string(QStringLiteral("strategy.name"));
    if (s->strategy != strategy) {
        if (error)
            *error = QStringLiteral("the state is of strategy '%1', the workspace's is '%2'")
                         .arg(s->strategy, strategy);
        return false;
    }
    // A state written by an older build lacks the keys added since: compare it with its defaults filled in.
    QJsonObject stateSpec = s->spec;
    if (FederationSpec::Parsed filled = FederationSpec::parse(stateSpec); filled.ok())
        stateSpec = filled.spec->json();
    if (const QStringList changed = resultChangingDifferences(stateSpec, d->spec.json());
        !changed.isEmpty()) {
        if (error)
            *error = QStringLiteral("the state belongs to a workspace that differs in %1; only run.rounds, "
                                    "run.threads, run.eval_every and the checkpoint keys may change")
                         .arg(changed.join(QStringLiteral(", ")));
        return false;
    }
    if (s->round >= d->spec.rounds()) {
        if (error)
            *error = QStringLiteral("the state is after round %1; run.rounds is %2: nothing to continue")
                         .arg(s->round)
                         .arg(d->spec.rounds());
        return false;
    }
    d->resume = std::move(s);
    return true;
}

RunEnvironment Run::environment(int threads) {
    RunEnvironment e;
    e.torchVersion = QStringLiteral(TORCH_VERSION);
    e.threads = threads;
    // The BLAS actually mapped into this process (libblas.so.3 is an alternatives link).
    QFile maps(QStringLiteral("/proc/self/maps"));
    if (maps.open(QIODevice::ReadOnly))
        for (const QByteArray &line : maps.readAll().split('\n'))
            if (line.contains("libblas") || line.contains("libopenblas")) {
                const QString path = QString::fromUtf8(line.mid(line.indexOf('/')));
                e.blas = QFileInfo(path).canonicalFilePath();
                if (line.contains("openblas")) break;
            }
    const remote::AtenCapability aten = remote::atenCapability();
    e.cpuCapability =
        aten.forced ? aten.effective + QStringLiteral(" (forced; the CPU has ") + aten.best + QLatin1Char(')')
                    : aten.effective;
    QFile cpu(QStringLiteral("/proc/cpuinfo"));
    if (cpu.open(QIODevice::ReadOnly))
        for (const QByteArray &line : cpu.readAll().split('\n'))
            if (line.startsWith("model name")) {
                e.cpuModel = QString::fromUtf8(line.mid(line.indexOf(':') + 1)).trimmed();
                break;
            }
    return e;
}

RunSummary Run::exec() {
    QElapsedTimer clock;
    clock.start();
    RunSummary summary;
    try {
        d->execute(clock, summary);
    } catch (const RunAborted &e) {
        summary.status = RunStatus::Failed;
        summary.message = QString::fromStdString(e.what());
    } catch (const SpecError &e) {
        summary.status = RunStatus::Failed;
        summary.message = QString::fromStdString(e.what());
        summary.inputError = true;
    } catch (const c10::Error &e) { // torch's message without its C++ backtrace
        summary.status = RunStatus::Failed;
        summary.message =
            QStringLiteral("internal error: ") + QString::fromStdString(e.what_without_backtrace());
    } catch (const std::bad_alloc &) {
        summary.status = RunStatus::Failed;
        summary.message =
            QStringLiteral("out of memory: lower training.batch_size, clients.count or the model size");
    } catch (const std::exception &e) {
        summary.status = RunStatus::Failed;
        summary.message = QString::fromStdString(e.what());
    }
    summary.wallSeconds = double(clock.nsecsElapsed()) * 1e-9;
    d->notify([&](RunObserver &o) { o.runFinished(summary); });
    return summary;
}

namespace {

// Accuracy of an evaluation; absent (never 0) for a regression dataset (squared loss only) or no samples.
std::optional<double> accuracyOf(const EvalResult &r, bool regression) {
    if (regression || r.count == 0) return std::nullopt;
    return double(r.correct) / double(r.count);
}

bool allFinite(const QByteArray &flat) {
    const auto *p = reinterpret_cast<const float *>(flat.constData());
    return std::all_of(p, p + flat.size() / qsizetype(sizeof(float)),
                       [](float v) { return std::isfinite(v); });
}

} // namespace

// Ends the run as Diverged in `round` (which is not recorded); the model stays the last finite one.
void Run::Impl::diverged(RunSummary &summary, int round, const QString &what, double lr) {
    summary.status = RunStatus::Diverged;
    summary.divergedRound = round;
    const QString kept = round > 1 ? QStringLiteral("rounds 1-%1 are kept").arg(round - 1)
                                   : QStringLiteral("no round completed");
    summary.message = QStringLiteral("training diverged in round %1: %2 (%3). Try a lower training.lr (now "
                                     "%4), training.lr_decay below 1, or a strategy that bounds updates "
                                     "(strategy.name norm-bounded, median or trimmed-mean)")
                          .arg(round)
                          .arg(what, kept)
                          .arg(lr);
}

// Draws k of n clients without replacement from the round's own generator; returned in ascending id order.
// clients.sampling poisson: each client independently with probability samplingRate(), one draw per client in
// id order from the same round generator (the selection may be empty).
std::vector<int> Run::Impl::selectClients(int round) const {
    const int n = spec.clientCount(), k = spec.clientsPerRound();
    if (spec.poissonSampling()) {
        const double rate = spec.samplingRate();
        Rng rng(spec.seed(), "poisson-sampling", round);
        std::vector<int> ids;
        for (int i = 0; i < n; ++i)
            if (rng.uniform() < rate) ids.push_back(i);
        return ids;
    }
    std::vector<int> ids(static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i)
        ids[std::size_t(i)] = i;
    Rng rng(spec.seed(), "select-clients", round);
    for (int i = 0; i < k; ++i)
        std::swap(ids[std::size_t(i)], ids[std::size_t(i) + std::size_t(rng.below(std::uint64_t(n - i)))]);
    ids.resize(std::size_t(k));
    std::sort(ids.begin(), ids.end());
    return ids;
}

TrainingConfig Run::Impl::trainingFor(int clientId, int round) const {
    TrainingConfig c;
    const int groupEpochs = groups[groupOfClient[std::size_t(clientId)]].epochs;
    c.epochs = groupEpochs > 0 ? groupEpochs : int(spec.integer(QStringLiteral("training.epochs")));
    c.batchSize = int(spec.integer(QStringLiteral("training.batch_size")));
    c.optimizer = spec.string(QStringLiteral("training.optimizer"));
    c.lr = spec.real(QStringLiteral("training.lr")) *
           std::pow(spec.real(QStringLiteral("training.lr_decay")), double(round - 1));
    c.momentum = spec.real(QStringLiteral("training.momentum"));
    c.nesterov = spec.boolean(QStringLiteral("training.nesterov"));
    c.weightDecay = spec.real(QStringLiteral("training.weight_decay"));
    return c;
}

ClientTask Run::Impl::taskFor(int clientId, int round, const QByteArray &payloadDown) const {
    ClientTask t;
    t.round = round;
    t.clientId = clientId;
    const int group = groupOfClient[std::size_t(clientId)];
    t.group = groups[group].name;
    t.model = global;
    t.training = trainingFor(clientId, round);
    t.algorithm = algorithm.name;
    t.algorithmParams = algorithm.params;
    t.behaviour = groups[group].behaviour;
    if (!behaviours[std::size_t(group)]->coordinated()) t.stages = stagesOf(group); // else after coordinate()
    t.payloadDown = payloadDown;
    t.clientState = clientStates.get(clientId);
    t.rngKey = deriveSeed(spec.seed(), "local-batches", round, clientId);
    t.needStartLoss = needStartLoss;
    t.spec = spec.json();
    return t;
}

// The client stages of a group's clients: its behaviour's (the adversary) first, then the strategy's, then
// local DP's.
QList<StageRef> Run::Impl::stagesOf(int group) const {
    QList<StageRef> stages = behaviours[std::size_t(group)]->updateStages() + clientStages;
    if (!localStages.isEmpty()) stages += localStages[group];
    return stages;
}

// Coordinated behaviours (alie): the clients of such a group that answered this round craft their updates
// together from their honest ones (in client-id order), then each runs the client stages taskFor held back,
// keyed by its own task as on the client.
void Run::Impl::coordinate(int round, const std::vector<ClientTask> &tasks,
                           const std::vector<std::size_t> &slotOfTask,
                           std::vector<ClientResult> &results) const {
    const auto answered = int(std::count_if(
        results.begin(), results.end(), [](const ClientResult &r) { return r.status == ClientStatus::Ok; }));
    for (std::size_t g = 0; g < behaviours.size(); ++g) {
        if (!behaviours[g]->coordinated()) continue;
        std::vector<std::size_t> members; // task indices
        std::vector<std::span<float>> updates;
        for (std::size_t k = 0; k < tasks.size(); ++k) {
            ClientResult &r = results[slotOfTask[k]];
            if (r.status != ClientStatus::Ok || groupOfClient[std::size_t(r.clientId)] != int(g)) continue;
            members.push_back(k);
            updates.emplace_back(reinterpret_cast<float *>(r.update.data()),
                                 std::size_t(r.update.size()) / sizeof(float));
        }
        if (members.empty()) continue;
        behaviours[g]->coordinate(updates, {round, answered});
        if (const QList<StageRef> stages = stagesOf(int(g)); !stages.isEmpty()) {
            const UpdatePipeline pipeline(stages);
            for (std::size_t i = 0; i < members.size(); ++i)
                pipeline.apply(updates[i], tasks[members[i]].stageContext());
        }
    }
}

// The attack success rate of each backdoor group's trigger on the current global model: the share of its
// triggered test images (of other classes) classified as the target (NaN when there is no such image).
std::vector<double> Run::Impl::attackSuccess() {
    std::vector<double> rates;
    for (const Backdoor &b : backdoors) {
        const EvalResult r = executor->evaluateSet(global, b.testSet.x, b.testSet.y);
        rates.push_back(r.count > 0 ? double(r.correct) / double(r.count)
                                    : std::numeric_limits<double>::quiet_NaN());
    }
    return rates;
}

RunState Run::Impl::state() const {
    RunState s;
    s.round = roundsDone;
    s.parameterCount = global.size() / qsizetype(sizeof(float));
    s.model = global;
    s.strategy = spec.string(QStringLiteral("strategy.name"));
    s.spec = spec.json();
    s.strategyState = strategy->saveState();
    s.clients = clientStates;
    s.bytesUp = bytesUp;
    s.bytesDown = bytesDown;
    s.lastTestAccuracy = lastAccuracy;
    s.lastTestLoss = lastLoss;
    if (ledger) s.privacy.insert(QStringLiteral("ledger"), ledger->saveState());
    if (dp && dp->adaptive()) s.privacy.insert(QStringLiteral("clip_norm"), dp->clipNorm());
    return s;
}

void Run::Impl::prepare() {
    notify([](RunObserver &o) { o.message(QStringLiteral("loading dataset")); });
    data = loadDataset(spec);
    notify([](RunObserver &o) { o.message(QStringLiteral("partitioning")); });
    auto shards = partitionFor(spec, *data);
    groups = spec.groups();
    groupOfClient.assign(std::size_t(spec.clientCount()), 0);
    for (qsizetype g = 0; g < groups.size(); ++g)
        for (int i = 0; i < groups[g].count; ++i)
            groupOfClient[std::size_t(groups[g].firstClient + i)] = int(g);
    try { // validation admits only behaviours that fit the data; fail now, naming the key, if not
        for (const ClientGroup &g : groups) {
            behaviours.push_back(makeBehaviour(g.behaviour));
            for (const StageRef &st : behaviours.back()->updateStages())
                makeUpdateStage(st);
            if (const auto trigger = behaviours.back()->backdoor())
                backdoors.push_back({g.name, triggeredTestSet(*data, *trigger)});
        }
    } catch (const std::invalid_argument &e) {
        throw SpecError(QStringLiteral("clients.groups"), QString::fromStdString(e.what()));
    }

    const QString modelName = spec.string(QStringLiteral("model.name"));
    const QJsonObject modelParams = spec.section(QStringLiteral("model"));
    {
        FlatModel init(modelName, data->facts, modelParams, spec.seed());
        global = tensorBytes(init.flat());
        layout = init.layout();
    }
    int threads = int(spec.integer(QStringLiteral("run.threads")));
    if (threads <= 0) threads = int(std::max(1u, std::thread::hardware_concurrency()));
    executor =
        std::make_unique<LocalExecutor>(data, std::move(shards), modelName, modelParams, threads, &stop);
    if (spec.boolean(QStringLiteral("run.portable")))
        if (const QString why = remote::portableMismatch(); !why.isEmpty())
            throw SpecError(
                QStringLiteral("run.portable"),
                QStringLiteral("this process does not compute with the portable kernel settings: %1 "
                               "(fedwb-cli and fedwb-worker --portable restart themselves so)")
                    .arg(why));
    training = executor.get();
    if (executorFactory) {
        const ExecutorSetup setup{
            spec,
            remote::datasetDigest(*data),
            remote::partitionDigest(executor->shards()),
            global.size() / qsizetype(sizeof(float)),
            *executor,
            stop,
            [this](const QString &text) { notify([&](RunObserver &o) { o.message(text); }); }};
        trainingExecutor = executorFactory(setup);
        if (trainingExecutor) training = trainingExecutor.get();
    }

    const QString strategyName = spec.string(QStringLiteral("strategy.name"));
    try {
        strategy = makeStrategy(strategyName, spec.section(QStringLiteral("strategy")));
    } catch (const std::invalid_argument &e) {
        throw SpecError(QStringLiteral("strategy.name"), QString::fromStdString(e.what()));
    }
    const ComponentSchema *entry = Registry::global().component(QStringLiteral("strategy"), strategyName);
    needStartLoss = entry && entry->has(QStringLiteral("needs-start-loss"));
    algorithm = strategy->clientAlgorithm();
    try {
        clientStages = strategy->clientStages();
        for (const StageRef &st : clientStages)
            makeUpdateStage(st); // fail now, naming the strategy, rather than inside the first task
        serverStages = UpdatePipeline(strategy->serverStages());
    } catch (const std::invalid_argument &e) {
        throw SpecError(QStringLiteral("strategy.name"), QString::fromStdString(e.what()));
    }
    try {
        dp = privacy::centralMechanismFor(spec);
        ledger = privacy::privacyLedgerFor(spec);
        if (spec.string(QStringLiteral("privacy.mode")) == QLatin1String("local"))
            for (const privacy::LocalGroupPrivacy &g : privacy::localPrivacyOf(spec)) {
                localStages.append({g.stage()});
                makeUpdateStage(localStages.back().front()); // refuses bad settings now
            }
    } catch (const std::invalid_argument &e) {
        throw SpecError(QStringLiteral("privacy.noise_multiplier"), QString::fromStdString(e.what()));
    }
    if (dp && !(entry && entry->has(QStringLiteral("private-mean")))) // validation refuses it; never run it
        throw SpecError(
            QStringLiteral("privacy.mode"),
            QStringLiteral("central DP needs a strategy whose server step is a mean of the updates"));
    secagg = privacy::secureAggregationFor(spec);
    if (secagg && !(entry && entry->has(QStringLiteral("private-mean")))) // validation refuses it too
        throw SpecError(
            QStringLiteral("secure_aggregation.enabled"),
            QStringLiteral("secure aggregation needs a strategy whose server step is a mean of the "
                           "updates"));
    // Personal layers or a personal model: the client algorithm's entry says so.
    const ComponentSchema *clientEntry =
        Registry::global().component(QStringLiteral("client-algorithm"), algorithm.name);
    personalState = clientEntry && clientEntry->has(QStringLiteral("personal-state"));

    if (resume) {
        if (resume->parameterCount != std::int64_t(global.size() / qsizetype(sizeof(float))))
            throw SpecError(QStringLiteral("model.name"),
                            QStringLiteral("the run state holds %1 parameters; this workspace's model has %2")
                                .arg(resume->parameterCount)
                                .arg(global.size() / qsizetype(sizeof(float))));
        roundsDone = resume->round;
        lastEvaluated = -1; // the state's accuracy may be of an earlier round: evaluate again when stopping
        global = resume->model;
        try {
            strategy->loadState(resume->strategyState);
        } catch (const std::invalid_argument &e) {
            throw SpecError(QStringLiteral("strategy.name"),
                            QStringLiteral("cannot continue: %1").arg(QString::fromStdString(e.what())));
        }
        clientStates = resume->clients;
        bytesUp = resume->bytesUp;
        bytesDown = resume->bytesDown;
        lastAccuracy = resume->lastTestAccuracy;
        lastLoss = resume->lastTestLoss;
        try { // the privacy spent so far
            if (ledger) ledger->loadState(resume->privacy.value(QStringLiteral("ledger")), roundsDone);
            if (dp && dp->adaptive() && roundsDone > 0)
                dp->setClipNorm(resume->privacy.value(QStringLiteral("clip_norm")).toDouble());
        } catch (const std::invalid_argument &e) {
            throw SpecError(QStringLiteral("privacy.mode"),
                            QStringLiteral("cannot continue: %1").arg(QString::fromStdString(e.what())));
        }
    }
}

void Run::Impl::evaluate(int round, RoundMetrics &m, std::vector<ClientRoundMetrics> &clients) {
    notify([&](RunObserver &o) { o.message(QStringLiteral("evaluating round %1").arg(round)); });
    const int steps = int(spec.integer(QStringLiteral("run.personalize_steps")));
    std::vector<ClientTask> personal;
    if (steps > 0 || personalState)
        for (int id = 0; id < spec.clientCount(); ++id) {
            ClientTask t = taskFor(id, round, {}); // personalization uses no payload
            t.rngKey = deriveSeed(spec.seed(), "personalize", round, id);
            personal.push_back(std::move(t));
        }
    const Evaluation e = executor->evaluate(global, personal, steps);
    const bool regression = data->facts.regression;
    const double none = std::numeric_limits<double>::quiet_NaN();
    m.evaluated = true;
    lastAccuracy = accuracyOf(e.global, regression);
    m.testAccuracy = lastAccuracy.value_or(none);
    m.testLoss = e.global.count ? e.global.lossSum / double(e.global.count) : 0;
    std::vector<double> accuracies;
    for (int id = 0; id < spec.clientCount(); ++id) {
        auto &c = clients[std::size_t(id)];
        if (const auto &r = e.clients[std::size_t(id)]; r && r->count > 0) {
            c.loss = r->lossSum / double(r->count);
            c.accuracy = accuracyOf(*r, regression);
            if (c.accuracy) accuracies.push_back(*c.accuracy);
        }
        if (!e.personal.empty())
            if (const auto &r = e.personal[std::size_t(id)]) c.personalAccuracy = accuracyOf(*r, regression);
    }
    m.fairness = computeFairness(accuracies);
    if (accuracies.empty())
        m.fairness = Fairness{none, none, none, none, none}; // nothing measured: absent, not 0
    if (const std::vector<double> asr = attackSuccess(); !asr.empty()) {
        m.asr = asr.front(); // the first backdoor group's; each group's when there are several
        if (asr.size() > 1) {
            QJsonObject byGroup;
            for (std::size_t i = 0; i < asr.size(); ++i)
                byGroup.insert(backdoors[i].group, asr[i]);
            m.extra.insert(QStringLiteral("asr_by_group"), byGroup);
        }
    }
    lastLoss = m.testLoss;
    lastEvaluated = round;
}

void Run::Impl::execute(QElapsedTimer &clock, RunSummary &summary) {
    at::set_num_threads(1);
    if (resume) { // what is already done stays done, also when preparing fails or is stopped
        summary.roundsDone = resume->round;
        summary.finalTestAccuracy = resume->lastTestAccuracy;
        summary.finalTestLoss = resume->lastTestLoss;
    }
    prepare();
    if (stop.load()) { // stopped while the data was prepared
        summary.status = RunStatus::Stopped;
        if (roundsDone > 0) // a continued run keeps the model of its checkpoint
            notify([&](RunObserver &o) { o.finalModel(global, global.size() / qsizetype(sizeof(float))); });
        return;
    }
    const std::int64_t parameterCount = global.size() / qsizetype(sizeof(float));
    const int rounds = spec.rounds();
    const int clientCount = spec.clientCount();
    const int evalEvery = int(spec.integer(QStringLiteral("run.eval_every")));
    const int checkpointEvery = int(spec.integer(QStringLiteral("run.checkpoint_every")));
    notify([&](RunObserver &o) { o.runStarted(rounds, parameterCount); });
    const RunEnvironment where = Run::environment(executor->threads());
    notify([&](RunObserver &o) { o.environment(where); });
    summary.roundsDone = roundsDone;
    if (ledger && roundsDone > 0) summary.epsilon = ledger->epsilon();
    summary.finalTestAccuracy = lastAccuracy;
    summary.finalTestLoss = lastLoss;

    summary.status = RunStatus::Finished;
    for (int round = roundsDone + 1; round <= rounds; ++round) {
        if (stop.load()) {
            summary.status = RunStatus::Stopped;
            break;
        }
        const std::vector<int> selected = selectClients(round);
        // Who answers: a client whose behaviour drops it out of this round received the model but never
        // answers (keyed draws, known before the round).
        std::vector<char> drops(selected.size(), 0);
        std::vector<int> releasing; // whose updates reach the server
        for (std::size_t i = 0; i < selected.size(); ++i) {
            const int id = selected[i];
            drops[i] = dropsOut(groups[groupOfClient[std::size_t(id)]].behaviour, spec.seed(), round, id);
            if (!drops[i]) releasing.push_back(id);
        }
        // DP: epsilon once this round is released, computed once (the budget check and the round's metrics
        // both use it).
        const double epsilonAfterRound = ledger ? ledger->epsilonAfterRound(round, releasing) : 0.0;
        if (ledger && ledger->targetEpsilon > 0) { // privacy.target_epsilon: before the round that would
                                                   // exceed it
            if (epsilonAfterRound > ledger->targetEpsilon) {
                const QString text =
                    QStringLiteral("privacy budget: round %1 would take epsilon to %2, above "
                                   "privacy.target_epsilon %3")
                        .arg(round)
                        .arg(epsilonAfterRound, 0, 'g', 4)
                        .arg(ledger->targetEpsilon);
                if (ledger->stopAtBudget) {
                    summary.status = RunStatus::BudgetSpent;
                    summary.message =
                        text + QStringLiteral("; the run ends after round %1 (privacy.stop_at_budget)")
                                   .arg(round - 1);
                    break;
                }
                if (!budgetWarned)
                    notify([&](RunObserver &o) { o.message(QStringLiteral("warning: ") + text); });
                budgetWarned = true;
            }
        }
        QElapsedTimer roundClock;
        roundClock.start();
        notify([&](RunObserver &o) { o.roundStarted(round, int(selected.size())); });

        std::vector<ClientTask> tasks;
        tasks.reserve(selected.size());
        const QByteArray payloadDown =
            strategy->payloadDown(); // shared by every task (QByteArray copies share)
        // Every selected client gets a result, in id order; a dropped one has status Dropped and trains
        // nothing (the simulation skips the work whose result would be lost).
        std::vector<ClientResult> results(selected.size());
        std::vector<std::size_t> slotOfTask;
        for (std::size_t i = 0; i < selected.size(); ++i) {
            const int id = selected[i];
            ClientTask t = taskFor(id, round, payloadDown);
            if (drops[i]) {
                ClientResult &r = results[i];
                r.round = round;
                r.clientId = id;
                r.status = ClientStatus::Dropped;
                r.bytesDown = t.model.size() + t.payloadDown.size() + t.clientState.size();
                continue;
            }
            slotOfTask.push_back(i);
            tasks.push_back(std::move(t));
        }
        const TrainingConfig roundTraining =
            trainingFor(0, round); // lr and momentum: the same for every client
        const int droppedCount = int(selected.size() - tasks.size());
        training->run(tasks, [&](std::size_t index, ClientResult &&r, int done) {
            results[slotOfTask[index]] = std::move(r);
            notify(
                [&](RunObserver &o) { o.clientFinished(round, droppedCount + done, int(selected.size())); });
        });
        // The round is incomplete: it is not aggregated, and the stored model stays the one of round - 1.
        if (stop.load() || std::any_of(results.begin(), results.end(), [](const ClientResult &r) {
                return r.status == ClientStatus::Stopped;
            })) {
            summary.status = RunStatus::Stopped;
            break;
        }
        if (const auto bad =
                std::find_if(results.begin(), results.end(),
                             [](const ClientResult &r) { return r.status == ClientStatus::Diverged; });
            bad != results.end()) {
            diverged(
                summary, round,
                QStringLiteral("the training loss of client %1 became NaN or infinite").arg(bad->clientId),
                roundTraining.lr);
            break;
        }
        coordinate(round, tasks, slotOfTask, results);
        RoundMetrics m;
        m.round = round;
        m.clientsSelected = int(selected.size());
        m.clientLr = roundTraining.lr;
        std::vector<ClientUpdate> updates;
        double lossWeighted = 0, weightSum = 0;
        for (const ClientResult &r : results) { // in client-id order, whatever the arrival order
            m.bytesDown += r.bytesDown;
            m.bytesUp += r.bytesUp;
            if (r.status == ClientStatus::Dropped) continue; // its update never arrived
            updates.push_back(
                {r.clientId, floatsOf(r.update), r.weight, r.steps, r.startLoss, floatsOf(r.payloadUp)});
            lossWeighted += r.trainLoss * r.weight;
            weightSum += r.weight;
        }
        RoundContext context;
        context.round = round;
        context.populationSize = clientCount;
        context.clientLr = m.clientLr;
        context.clientMomentum = roundTraining.sgdMomentum();
        context.clientNesterov = roundTraining.sgdNesterov();
        context.layout = &layout;
        context.privateMean = dp.get();
        const double clipOfRound = dp ? dp->clipNorm() : 0.0; // adaptive clipping moves it in aggregation
        // Secure aggregation: the protocol sums the updates of the clients that did not drop; the strategy's
        // mean comes from that sum (with central DP: each client clips to the round's clip norm before
        // masking, the server adds the noise to the unmasked sum). A round the protocol cannot complete has
        // no aggregate: the model stays, the run goes on.
        std::optional<privacy::SecureSumMean> secureMean;
        bool secureFailed = false;
        if (secagg) {
            privacy::SecAggParams params = *secagg;
            params.l2ClipNorm = clipOfRound;
            params.countUnclipped = dp && dp->adaptive(); // adaptive clipping's count, summed securely too
            std::vector<privacy::SecAggInput> inputs;
            for (const ClientResult &r : results) {
                const bool gone = r.status == ClientStatus::Dropped;
                inputs.push_back({r.clientId, gone ? std::span<const float>() : floatsOf(r.update), gone});
                if (!gone) m.bytesUp -= r.update.size(); // the masked vector (counted below) replaces it
            }
            privacy::SecAggReport report = privacy::runSecureAggregation(params, round, spec.seed(), inputs,
                                                                         std::size_t(parameterCount));
            m.extra.insert(QStringLiteral("secure_aggregation"), report.toJson());
            m.bytesUp += report.bytesUp();
            m.bytesDown += report.bytesDown();
            if (report.ok) {
                secureMean.emplace(privacy::GaussianSumMean::ClippedSum{std::move(report.sum),
                                                                        double(report.unclipped),
                                                                        double(report.survivors.size())},
                                   dp.get());
                context.privateMean = report.survivors.empty() && !dp ? nullptr : &*secureMean;
            } else {
                secureFailed = true;
                notify([&](RunObserver &o) {
                    o.message(QStringLiteral("warning: ") + report.failure +
                              QStringLiteral("; the model stays as it was after round %1").arg(round - 1));
                });
            }
        }
        QByteArray next = global;
        // A Poisson round may sample nobody: the model stays, unless DP releases its noise anyway.
        if (!secureFailed && (!updates.empty() || context.privateMean)) {
            try {
                aggregateRound(*strategy, serverStages,
                               std::span<float>(reinterpret_cast<float *>(next.data()),
                                                std::size_t(next.size()) / sizeof(float)),
                               updates, context);
            } catch (const std::invalid_argument &e) {
                throw SpecError(QStringLiteral("strategy.name"), QString::fromStdString(e.what()));
            }
        }
        if (!allFinite(next)) {
            diverged(summary, round, QStringLiteral("the aggregated model has NaN or infinite parameters"),
                     m.clientLr);
            break;
        }
        // The round is released: account for it. A failed secure-aggregation round released nothing but is
        // accounted as well (an upper bound), so a continued run's ledger agrees with its round count.
        if (ledger) {
            ledger->record(round, releasing);
            m.epsilon = epsilonAfterRound; // = ledger->epsilon() after the record
            if (const QJsonObject byGroup = ledger->epsilonByGroup(); !byGroup.isEmpty())
                m.extra.insert(QStringLiteral("epsilon_by_group"), byGroup);
        }
        if (dp && dp->adaptive() && !secureFailed)
            m.extra.insert(QStringLiteral("adaptive_clipping"),
                           QJsonObject{{QStringLiteral("clip_norm"), clipOfRound},
                                       {QStringLiteral("unclipped_fraction"), dp->lastUnclippedFraction()},
                                       {QStringLiteral("next_clip_norm"), dp->clipNorm()}});
        const QByteArray previous = global; // shares the buffer: no copy
        global = next;
        for (const ClientResult &r : results)
            if (r.hasNewState && !secureFailed) clientStates.set(r.clientId, r.newState);
        bytesUp += m.bytesUp;
        bytesDown += m.bytesDown;
        QJsonObject trainedBy; // remote execution: which worker trained which client
        for (const ClientResult &r : results)
            if (!r.worker.isEmpty()) trainedBy.insert(QString::number(r.clientId), r.worker);
        if (!trainedBy.isEmpty()) m.extra.insert(QStringLiteral("trained_by"), trainedBy);
        m.trainLoss = weightSum > 0 ? lossWeighted / weightSum : std::numeric_limits<double>::quiet_NaN();

        std::vector<ClientRoundMetrics> clients(static_cast<std::size_t>(clientCount));
        const auto &shards = executor->shards();
        for (int id = 0; id < clientCount; ++id) {
            auto &c = clients[std::size_t(id)];
            c.clientId = id;
            c.group = groups[groupOfClient[std::size_t(id)]].name;
            c.trainSamples = std::int64_t(shards[std::size_t(id)].train.size());
            c.testSamples = std::int64_t(shards[std::size_t(id)].test.size());
        }
        for (const ClientResult &r : results) {
            auto &c = clients[std::size_t(r.clientId)];
            if (r.status == ClientStatus::Dropped) {
                c.dropped = true;
                continue;
            }
            c.trained = true;
            c.trainLoss = r.trainLoss;
            c.steps = r.steps;
        }
        if (round % evalEvery == 0 || round == rounds) {
            evaluate(round, m, clients);
            if (!std::isfinite(m.testLoss)) {
                global = previous; // the final model is the last one with a finite loss
                lastEvaluated = -1;
                diverged(summary, round,
                         QStringLiteral("the test loss of the global model is NaN or infinite"), m.clientLr);
                break;
            }
        }
        for (auto &c : clients)
            if (c.trained || c.dropped || c.accuracy) m.clients.push_back(c);
        roundsDone = round;
        if (round % checkpointEvery == 0 || round == rounds) m.checkpoint = state().toBytes();
        m.roundSeconds = double(roundClock.nsecsElapsed()) * 1e-9;
        m.wallSeconds = double(clock.nsecsElapsed()) * 1e-9;
        notify([&](RunObserver &o) { o.roundFinished(m); }); // may abort: a round not recorded is not done
        summary.roundsDone = round;
        if (ledger) summary.epsilon = m.epsilon;
        if (m.evaluated) {
            summary.finalTestAccuracy = lastAccuracy;
            summary.finalTestLoss = m.testLoss;
            if (!backdoors.empty()) summary.finalAsr = m.asr;
        }
    }
    // The final model is the one of the last completed round; the final metrics must describe it.
    if ((summary.status == RunStatus::Stopped || summary.status == RunStatus::Diverged ||
         summary.status == RunStatus::BudgetSpent) &&
        roundsDone > 0 && lastEvaluated != roundsDone) {
        const Evaluation e = executor->evaluate(global, {}, 0);
        if (e.global.count > 0) {
            summary.finalTestAccuracy = accuracyOf(e.global, data->facts.regression);
            summary.finalTestLoss = e.global.lossSum / double(e.global.count);
        }
        if (const std::vector<double> asr = attackSuccess(); !asr.empty()) summary.finalAsr = asr.front();
    }
    notify([&](RunObserver &o) { o.finalModel(global, parameterCount); });
}

} // namespace fedwb
