#include "ui/scenario_panel.hpp"

#include "ui/scenario_panel_parts.hpp"
#include "ui/theme.hpp"
#include "ui/units.hpp"
#include "ui/value_slider.hpp"
#include "ui/wheel_guard.hpp"

#include <QCheckBox>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QFileInfo>
#include <QFormLayout>
#include <QGroupBox>
#include <QLabel>
#include <QListWidget>
#include <QPushButton>
#include <QScrollArea>
#include <QSpinBox>
#include <QStackedWidget>
#include <QUndoStack>
#include <QVBoxLayout>

#include <cmath>

namespace kvtier::ui {

using namespace panel;

ScenarioPanel::ScenarioPanel(const PresetLibrary& presets, QWidget* parent)
    : QWidget(parent), presets_(presets), history_(new QUndoStack(this))
{
    auto* outer = new QVBoxLayout(this);
    outer->setContentsMargins(0, 0, 0, 0);
    auto* scroll = new QScrollArea(this);
    scroll->setWidgetResizable(true);
    scroll->setFrameShape(QFrame::NoFrame);
    scroll->setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
    outer->addWidget(scroll);
    auto* content = new QWidget(scroll);
    scroll->setWidget(content);
    auto* v = new QVBoxLayout(content);
    v->setContentsMargins(6, 6, 6, 6);
    v->setSpacing(8);

    // Trace
    auto* traceBox = group(tr("Trace"), content);
    auto* tl = new QVBoxLayout(traceBox);
    auto* dbRow = new QHBoxLayout;
    dbLabel_ = new QLabel(tr("No database open"), traceBox);
    dbLabel_->setTextInteractionFlags(Qt::TextSelectableByMouse);
    dbLabel_->setWordWrap(true);
    openButton_ = new QPushButton(tr("Open…"), traceBox);
    openButton_->setToolTip(tr("Open a trace database (.sqlite); drop CSV/.npz/.sqlite files on the window to import"));
    dbRow->addWidget(dbLabel_, 1);
    dbRow->addWidget(openButton_);
    tl->addLayout(dbRow);
    trace_ = new QComboBox(traceBox);
    trace_->setObjectName(QStringLiteral("traceCombo"));
    trace_->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
    trace_->setMinimumContentsLength(14);
    tl->addWidget(trace_);
    traceInfo_ = new QLabel(traceBox);
    traceInfo_->setObjectName(QStringLiteral("traceInfo"));
    traceInfo_->setWordWrap(true);
    useSecondaryText(traceInfo_);
    tl->addWidget(traceInfo_);
    v->addWidget(traceBox);
    connect(openButton_, &QPushButton::clicked, this, &ScenarioPanel::openDatabaseRequested);
    connect(trace_, &QComboBox::currentIndexChanged, this, [this](int i) {
        if (syncing_ || i < 0)
            return;
        emit traceSelected(trace_->itemData(i).toString());
    });

    // Model and hardware presets
    auto* presetBox = group(tr("Model and hardware"), content);
    auto* pf = new QFormLayout(presetBox);
    pf->setFieldGrowthPolicy(QFormLayout::AllNonFixedFieldsGrow);
    model_ = new QComboBox(presetBox);
    model_->setObjectName(QStringLiteral("modelCombo"));
    model_->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
    model_->setMinimumContentsLength(14);
    for (const ModelPreset& m : presets_.models()) {
        model_->addItem(qs(m.name), qs(m.id));
        model_->setItemData(model_->count() - 1, qs(m.description + "\nSource: " + m.source), Qt::ToolTipRole);
    }
    model_->addItem(tr("Custom"), QString::fromLatin1(kCustomId));
    pf->addRow(tr("Model"), model_);
    modelInfo_ = new QLabel(presetBox);
    modelInfo_->setWordWrap(true);
    useSecondaryText(modelInfo_);
    pf->addRow(QString(), modelInfo_);
    buildModelEditors(presetBox, pf);
    hardware_ = new QComboBox(presetBox);
    hardware_->setObjectName(QStringLiteral("hardwareCombo"));
    hardware_->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
    hardware_->setMinimumContentsLength(14);
    for (const HardwarePreset& h : presets_.hardware()) {
        hardware_->addItem(qs(h.name), qs(h.id));
        hardware_->setItemData(hardware_->count() - 1, qs(h.description + "\nSource: " + h.source), Qt::ToolTipRole);
    }
    hardware_->addItem(tr("Custom (edited)"), QStringLiteral("__edited__"));
    pf->addRow(tr("Hardware"), hardware_);
    reset_ = new QPushButton(tr("Reset to preset"), presetBox);
    reset_->setObjectName(QStringLiteral("resetToPreset"));
    reset_->setToolTip(tr("Put the model and every tier back to the presets last chosen (undo with Ctrl+Z)"));
    pf->addRow(QString(), reset_);
    connect(reset_, &QPushButton::clicked, this, &ScenarioPanel::resetToPreset);
    v->addWidget(presetBox);
    connect(model_, &QComboBox::currentIndexChanged, this, [this](int i) {
        if (syncing_ || i < 0)
            return;
        const std::string id = model_->itemData(i).toString().toStdString();
        if (id == kCustomId) {
            scenario_.model_preset = kCustomId;
        } else {
            scenario_.model = presets_.modelById(id).model;
            scenario_.model_preset = id;
            modelBase_ = id;
        }
        modelNote_->clear();
        syncFromScenario();
        edited();
    });
    connect(hardware_, &QComboBox::currentIndexChanged, this, [this](int i) {
        if (syncing_ || i < 0)
            return;
        const std::string id = hardware_->itemData(i).toString().toStdString();
        if (id == "__edited__")
            return;
        scenario_.hardware = presets_.hardwareById(id).hardware;
        scenario_.hardware_preset = id;
        hardwareBase_ = id;
        syncFromScenario();
        edited();
    });

    // Tiers
    auto* tiersBox = group(tr("Memory tiers"), content);
    tierLayout_ = new QVBoxLayout(tiersBox);
    tierLayout_->setSpacing(4);
    v->addWidget(tiersBox);

    // Selection
    auto* selBox = group(tr("Sparsity (which KV each step reads)"), content);
    auto* sl = new QVBoxLayout(selBox);
    auto* modeRow = new QHBoxLayout;
    modeRow->addWidget(new QLabel(tr("Mode"), selBox));
    mode_ = new QComboBox(selBox);
    mode_->setObjectName(QStringLiteral("modeCombo"));
    mode_->addItem(tr("dense (all tokens)"), QStringLiteral("dense"));
    mode_->addItem(tr("top-K tokens"), QStringLiteral("topk"));
    mode_->addItem(tr("ratio of the context"), QStringLiteral("ratio"));
    mode_->addItem(tr("attention mass"), QStringLiteral("mass"));
    modeRow->addWidget(mode_, 1);
    sl->addLayout(modeRow);
    sparsity_ = new ValueSlider(tr("Budget"), selBox);
    sl->addWidget(sparsity_);
    sinks_ = new ValueSlider(tr("Sink tokens (always read)"), selBox);
    sinks_->setInteger(true);
    sinks_->setSteps(powersOfTwo(1, 1024, true));
    sinks_->setUnit(1, QStringLiteral(" tok"), 0);
    sinks_->setQuantity(Quantity::Count);
    sl->addWidget(sinks_);
    window_ = new ValueSlider(tr("Recent window (always read)"), selBox);
    window_->setInteger(true);
    window_->setSteps(powersOfTwo(1, 16384, true));
    window_->setUnit(1, QStringLiteral(" tok"), 0);
    window_->setQuantity(Quantity::Count);
    sl->addWidget(window_);
    page_ = new ValueSlider(tr("Page size g"), selBox);
    page_->setInteger(true);
    page_->setSteps(powersOfTwo(1, 1024, false));
    page_->setUnit(1, QStringLiteral(" tok"), 0);
    page_->setQuantity(Quantity::Count);
    page_->setToolTipText(tr("Placement and migration move pages of g consecutive tokens (MODEL.md §2)"));
    sl->addWidget(page_);
    v->addWidget(selBox);
    connect(mode_, &QComboBox::currentIndexChanged, this, [this](int i) {
        if (syncing_ || i < 0)
            return;
        // Each mode keeps its last budget: top-K 512 -> ratio -> top-K is 512 again.
        if (scenario_.selection.mode != SelectionMode::Dense)
            modeValues_[scenario_.selection.mode] = scenario_.selection.value;
        scenario_.selection.mode = selectionModeFromString(mode_->itemData(i).toString().toStdString());
        switch (scenario_.selection.mode) {
        case SelectionMode::Dense: break;
        case SelectionMode::TopK: scenario_.selection.value = 2048; break;
        case SelectionMode::Ratio: scenario_.selection.value = 0.3; break;
        case SelectionMode::Mass: scenario_.selection.value = 0.9; break;
        }
        if (const auto it = modeValues_.find(scenario_.selection.mode); it != modeValues_.end())
            scenario_.selection.value = it->second;
        syncFromScenario();
        edited();
    });
    connect(sparsity_, &ValueSlider::valueChanged, this, [this](double x) {
        scenario_.selection.value = x;
        modeValues_[scenario_.selection.mode] = x;
        edited();
    });
    connect(sinks_, &ValueSlider::valueChanged, this, [this](double x) {
        scenario_.selection.sinks = static_cast<int64_t>(x);
        edited();
    });
    connect(window_, &ValueSlider::valueChanged, this, [this](double x) {
        scenario_.selection.window = static_cast<int64_t>(x);
        edited();
    });
    connect(page_, &ValueSlider::valueChanged, this, [this](double x) {
        scenario_.selection.page_tokens = std::max<int64_t>(1, static_cast<int64_t>(x));
        edited();
    });

    // Placement and serving
    auto* plBox = group(tr("Placement and serving"), content);
    auto* pl = new QVBoxLayout(plBox);
    inclusive_ = new QCheckBox(tr("Inclusive (lowest tier keeps every unit)"), plBox);
    inclusive_->setObjectName(QStringLiteral("inclusiveCheck"));
    pl->addWidget(inclusive_);
    auto* routeRow = new QHBoxLayout;
    routeRow->addWidget(new QLabel(tr("Route reads of copies"), plBox));
    route_ = new QComboBox(plBox);
    route_->addItem(tr("from HBM (home)"), QStringLiteral("home"));
    route_->addItem(tr("balanced split"), QStringLiteral("balanced"));
    routeRow->addWidget(route_, 1);
    pl->addLayout(routeRow);
    auto* observeRow = new QHBoxLayout;
    observeRow->addWidget(new QLabel(tr("Policies see scores of"), plBox));
    observe_ = new QComboBox(plBox);
    observe_->setObjectName(QStringLiteral("observeScoresCombo"));
    observe_->addItem(tr("units read (honest)"), QStringLiteral("read"));
    observe_->addItem(tr("all scored (what-if)"), QStringLiteral("all"));
    observe_->setToolTip(tr("Score-based policies (h2o, tova, quest, arkvale) see the scores of the units a "
                            "step read, or, as a what-if, of every unit the trace scores, even unread ones"));
    observeRow->addWidget(observe_, 1);
    pl->addLayout(observeRow);
    // Combo boxes as wide as the panel allows, not as their longest item: the panel must
    // fit its dock without a horizontal scroll bar.
    for (QComboBox* c : {mode_, route_, observe_}) {
        c->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
        c->setMinimumContentsLength(8);
    }
    omega_ = new ValueSlider(tr("Weights in HBM (ω)"), plBox);
    omega_->setUnit(1, QString(), 2);
    omega_->setQuantity(Quantity::Fraction);
    omega_->setRange(0, 1, ValueSlider::Scale::Linear);
    omega_->setToolTipText(tr("Fraction of the model weights kept in tier 0; the rest lives in the last tier"));
    pl->addWidget(omega_);
    batch_ = new ValueSlider(tr("Batch (sequences in lock step)"), plBox);
    batch_->setInteger(true);
    batch_->setSteps(powersOfTwo(1, 1024, false));
    batch_->setUnit(1, QString(), 0);
    batch_->setQuantity(Quantity::Plain);
    pl->addWidget(batch_);
    v->addWidget(plBox);
    buildExpertEditors(content, v);
    connect(inclusive_, &QCheckBox::toggled, this, [this](bool on) {
        if (syncing_)
            return;
        scenario_.inclusive = on;
        route_->setEnabled(on);
        edited();
    });
    connect(route_, &QComboBox::currentIndexChanged, this, [this](int i) {
        if (syncing_ || i < 0)
            return;
        scenario_.route = routeFromString(route_->itemData(i).toString().toStdString());
        edited();
    });
    connect(observe_, &QComboBox::currentIndexChanged, this, [this](int i) {
        if (syncing_ || i < 0)
            return;
        scenario_.observe_scores = observeScoresFromString(observe_->itemData(i).toString().toStdString());
        edited();
    });
    connect(omega_, &ValueSlider::valueChanged, this, [this](double x) {
        scenario_.weights_in_fast_tier = x;
        edited();
    });
    connect(batch_, &ValueSlider::valueChanged, this, [this](double x) {
        scenario_.batch = std::max<int64_t>(1, static_cast<int64_t>(x));
        edited();
    });

    // Policies
    auto* polBox = group(tr("Policies"), content);
    auto* pv = new QVBoxLayout(polBox);
    policies_ = new QListWidget(polBox);
    policies_->setObjectName(QStringLiteral("policyList"));
    policies_->setMaximumHeight(170);
    auto* policyHint = new QLabel(tr("Click a policy to show it in the views and edit its parameters; "
                                     "tick it to include it in the comparison. The shown one is bold."),
                                  polBox);
    policyHint->setWordWrap(true);
    useSecondaryText(policyHint);
    pv->addWidget(policyHint);
    pv->addWidget(policies_);
    policyHelp_ = new QLabel(polBox);
    policyHelp_->setWordWrap(true);
    pv->addWidget(policyHelp_);
    policyParamsStack_ = new QStackedWidget(polBox);
    pv->addWidget(policyParamsStack_);
    for (const PolicyEntry& e : policyRegistry()) {
        auto* item = new QListWidgetItem(qs(e.info.label) + (e.info.online ? QString() : tr("  ◆ oracle")), policies_);
        item->setData(Qt::UserRole, qs(e.info.name));
        item->setFlags(item->flags() | Qt::ItemIsUserCheckable);
        item->setCheckState(Qt::Unchecked);
        item->setToolTip(qs(e.info.description) + (e.info.online ? QString() : tr("\nOracle: looks at the future.")));
        PolicyParams defaults;
        for (const ParamSpec& p : e.info.params)
            defaults[p.key] = p.def;
        policyParams_[e.info.name] = defaults;
        policyParamsStack_->addWidget(buildPolicyParams(e.info));
    }
    connect(policies_, &QListWidget::currentRowChanged, this, [this](int row) {
        if (row < 0)
            return;
        policyParamsStack_->setCurrentIndex(row);
        policyHelp_->setText(qs(policyRegistry()[static_cast<size_t>(row)].info.description));
        // One gesture: the policy clicked for editing is also the one shown, when it is
        // in the comparison (ticked).
        QListWidgetItem* item = policies_->item(row);
        if (!syncing_ && item && item->checkState() == Qt::Checked)
            emit policyFocused(item->data(Qt::UserRole).toString());
    });
    connect(policies_, &QListWidget::itemChanged, this, [this](QListWidgetItem*) {
        if (syncing_)
            return;
        rebuildPolicySpecs();
        edited();
    });
    v->addWidget(polBox);
    v->addStretch(1);

    for (ValueSlider* s : content->findChildren<ValueSlider*>())
        wireSlider(s);
    WheelGuard::guard(content);
    setMinimumWidth(320);
    syncFromScenario();
}

void ScenarioPanel::wireSlider(ValueSlider* s)
{
    connect(s, &ValueSlider::dragFinished, this, &ScenarioPanel::commit, Qt::UniqueConnection);
    connect(s, &ValueSlider::dragFinished, this, &ScenarioPanel::dragEnded, Qt::UniqueConnection);
    connect(s, &ValueSlider::inputRefused, this, &ScenarioPanel::notice, Qt::UniqueConnection);
}

bool ScenarioPanel::dragging() const
{
    for (const ValueSlider* s : findChildren<ValueSlider*>())
        if (s->dragging())
            return true;
    return false;
}

void ScenarioPanel::edited()
{
    if (syncing_)
        return;
    matchPresets();
    // A drag is one step: it is committed when the handle is released.
    if (!dragging())
        commit();
    updateResetButton();
    emit scenarioChanged();
}

void ScenarioPanel::configureSparsitySlider()
{
    switch (scenario_.selection.mode) {
    case SelectionMode::Dense:
        sparsity_->setUnit(1, QString(), 0);
        sparsity_->setRange(0, 1);
        sparsity_->setEnabled(false);
        break;
    case SelectionMode::TopK:
        sparsity_->setInteger(true);
        sparsity_->setQuantity(Quantity::Count);
        sparsity_->setUnit(1, QStringLiteral(" tok"), 0);
        sparsity_->setRange(1, 131072, ValueSlider::Scale::Log);
        sparsity_->setEnabled(true);
        break;
    case SelectionMode::Ratio:
        sparsity_->setInteger(false);
        sparsity_->setQuantity(Quantity::Fraction);
        sparsity_->setUnit(1, QString(), 4);
        sparsity_->setRange(0.001, 1, ValueSlider::Scale::Log);
        sparsity_->setEnabled(true);
        break;
    case SelectionMode::Mass:
        sparsity_->setInteger(false);
        sparsity_->setQuantity(Quantity::Fraction);
        sparsity_->setUnit(1, QString(), 4);
        sparsity_->setRange(0.5, 1, ValueSlider::Scale::Linear);
        sparsity_->setEnabled(true);
        break;
    }
}

void ScenarioPanel::syncFromScenario()
{
    syncing_ = true;
    const Scenario& s = scenario_;
    // Model
    int mi = model_->findData(qs(s.model_preset));
    if (mi < 0)
        mi = model_->count() - 1;
    model_->setCurrentIndex(mi);
    modelInfo_->setText(mi == model_->count() - 1 ? tr("Custom: edit L, κ and W below")
                                                  : tr("Editing a value below makes the model Custom"));
    syncModelEditors();
    // Hardware
    int hi = hardware_->findData(qs(s.hardware_preset));
    if (hi < 0) {
        hi = hardware_->count() - 1;
    } else if (s.hardware_preset == kCustomId) {
        // "custom" is also a shipped preset: show it as such until a value is edited.
        const auto& shipped = presets_.hardware();
        bool same = false;
        for (const HardwarePreset& h : shipped)
            same = same || (h.id == kCustomId && h.hardware.tiers == s.hardware.tiers);
        if (!same)
            hi = hardware_->count() - 1;
    }
    hardware_->setCurrentIndex(hi);
    if (tierWidgets_.size() != s.hardware.tiers.size())
        buildTierWidgets();
    for (size_t m = 0; m < s.hardware.tiers.size(); ++m) {
        const Tier& t = s.hardware.tiers[m];
        TierWidgets& tw = tierWidgets_[m];
        tw.box->setTitle(tr("Tier %1 — %2").arg(m).arg(qs(t.name)));
        tw.capacity->setValueSilently(t.capacity_bytes);
        configureBandwidth(tw.bandwidth, t.bandwidth, 1e9, 40e12);
        tw.bandwidth->setValueSilently(t.bandwidth);
        const bool hasLink = std::isfinite(t.link_read) || std::isfinite(t.link_write);
        if (hasLink != (tw.linkRead != nullptr)) {
            buildTierWidgets();
            syncing_ = false;
            syncFromScenario();
            return;
        }
        if (tw.linkRead) {
            tw.linkRead->setValueSilently(std::isfinite(t.link_read) ? t.link_read : 4e12);
            tw.linkWrite->setValueSilently(std::isfinite(t.link_write) ? t.link_write : 4e12);
        }
    }
    // Selection
    mode_->setCurrentIndex(mode_->findData(QString::fromLatin1(toString(s.selection.mode))));
    configureSparsitySlider();
    if (s.selection.mode != SelectionMode::Dense)
        sparsity_->setValueSilently(s.selection.value);
    sinks_->setValueSilently(static_cast<double>(s.selection.sinks));
    window_->setValueSilently(static_cast<double>(s.selection.window));
    page_->setValueSilently(static_cast<double>(s.selection.page_tokens));
    // Placement
    inclusive_->setChecked(s.inclusive);
    route_->setCurrentIndex(route_->findData(QString::fromLatin1(toString(s.route))));
    route_->setEnabled(s.inclusive);
    observe_->setCurrentIndex(observe_->findData(QString::fromLatin1(toString(s.observe_scores))));
    omega_->setValueSilently(s.weights_in_fast_tier);
    batch_->setValueSilently(static_cast<double>(s.batch));
    syncExpertEditors();
    // Trace (an undo may go back to another trace of the list)
    if (const int ti = trace_->findData(qs(s.trace_name)); ti >= 0)
        trace_->setCurrentIndex(ti);
    syncing_ = false;
    syncPolicies();
    updateResetButton();
}

void ScenarioPanel::setScenario(const Scenario& s)
{
    scenario_ = s;
    if (s.hardware_preset != kCustomId && !s.hardware_preset.empty())
        hardwareBase_ = s.hardware_preset;
    if (s.model_preset != kCustomId && !s.model_preset.empty())
        modelBase_ = s.model_preset;
    if (s.selection.mode != SelectionMode::Dense)
        modeValues_[s.selection.mode] = s.selection.value;
    if (tierWidgets_.size() != s.hardware.tiers.size())
        buildTierWidgets();
    syncFromScenario();
    // A scenario set from outside (a trace opened, a file loaded) is a step of its own;
    // the first one is where the history starts.
    if (haveCommitted_ && !committed_.trace_name.empty())
        commit();
    committed_ = scenario_;
    haveCommitted_ = true;
}

void ScenarioPanel::setTraces(const QString& dbPath, const std::vector<TraceSummary>& traces, const QString& current)
{
    syncing_ = true;
    traces_ = traces;
    dbLabel_->setText(dbPath.isEmpty() ? tr("No database open") : QFileInfo(dbPath).fileName());
    dbLabel_->setToolTip(dbPath);
    trace_->clear();
    for (const TraceSummary& t : traces) {
        trace_->addItem(qs(t.meta.name), qs(t.meta.name));
        trace_->setItemData(trace_->count() - 1, qs(t.meta.description), Qt::ToolTipRole);
    }
    const int i = trace_->findData(current);
    trace_->setCurrentIndex(i);
    if (i >= 0) {
        const TraceMeta& m = traces[static_cast<size_t>(i)].meta;
        traceInfo_->setText(tr("%1 · %2 prefill, T = %3 steps, L = %4 (%5, %6)")
                                .arg(qs(m.description.empty() ? m.model_name : m.description))
                                .arg(formatPrefill(m))
                                .arg(m.steps)
                                .arg(m.layers)
                                .arg(QString::fromLatin1(toString(m.layer_mode)))
                                .arg(QString::fromLatin1(toString(m.kind))));
    } else {
        traceInfo_->clear();
    }
    syncing_ = false;
    if (i >= 0) {
        const QString note = adaptModelToTrace(traces[static_cast<size_t>(i)].meta);
        if (!note.isEmpty())
            emit notice(note);
    }
}

} // namespace kvtier::ui
