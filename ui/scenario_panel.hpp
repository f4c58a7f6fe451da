#pragma once
// The scenario dock: trace, model and hardware presets, one slider per knob of MODEL.md,
// and the policy list with each policy's parameters built from its ParamSpec list.
// It owns the Scenario being edited and emits scenarioChanged() on every user edit;
// programmatic updates (setScenario) are silent.
#include "core/config/presets.hpp"
#include "core/model/scenario.hpp"
#include "core/policies/policy.hpp"
#include "core/store/trace_store.hpp"

#include <QWidget>

#include <map>
#include <vector>

class QCheckBox;
class QComboBox;
class QLabel;
class QListWidget;
class QStackedWidget;
class QVBoxLayout;
class QGroupBox;
class QPushButton;

namespace kvtier::ui {

class ValueSlider;

class ScenarioPanel : public QWidget {
    Q_OBJECT
public:
    explicit ScenarioPanel(const PresetLibrary& presets, QWidget* parent = nullptr);

    const Scenario& scenario() const { return scenario_; }
    void setScenario(const Scenario& s);
    // Lists the traces of the open database; selects `current` when present.
    void setTraces(const QString& dbPath, const std::vector<TraceSummary>& traces, const QString& current);

    // For tests and the latency benchmark.
    ValueSlider* capacitySlider(int tier) const;
    ValueSlider* bandwidthSlider(int tier) const;
    ValueSlider* linkReadSlider(int tier) const;
    ValueSlider* linkWriteSlider(int tier) const;
    ValueSlider* sparsitySlider() const { return sparsity_; }
    ValueSlider* sinksSlider() const { return sinks_; }
    ValueSlider* windowSlider() const { return window_; }
    ValueSlider* pageSlider() const { return page_; }
    ValueSlider* batchSlider() const { return batch_; }
    ValueSlider* omegaSlider() const { return omega_; }
    QComboBox* modeCombo() const { return mode_; }
    QComboBox* hardwareCombo() const { return hardware_; }
    QComboBox* modelCombo() const { return model_; }
    QComboBox* traceCombo() const { return trace_; }
    QComboBox* routeCombo() const { return route_; }
    QCheckBox* inclusiveCheck() const { return inclusive_; }
    QListWidget* policyList() const { return policies_; }
    int tierCount() const { return static_cast<int>(tierWidgets_.size()); }

signals:
    void scenarioChanged();
    void traceSelected(const QString& name);
    void openDatabaseRequested();

private:
    struct TierWidgets {
        QGroupBox* box = nullptr;
        ValueSlider *capacity = nullptr, *bandwidth = nullptr, *linkRead = nullptr, *linkWrite = nullptr;
    };
    void buildTierWidgets();
    void syncFromScenario();
    void syncPolicies();
    void configureSparsitySlider();
    void markHardwareCustom();
    void edited();
    QWidget* buildPolicyParams(const PolicyInfo& info);
    void rebuildPolicySpecs();

    const PresetLibrary& presets_;
    Scenario scenario_;
    bool syncing_ = false;
    std::map<std::string, PolicyParams> policyParams_;   // kept for unchecked policies too
    std::map<std::string, std::vector<QWidget*>> paramEditors_;

    QLabel* dbLabel_;
    QPushButton* openButton_;
    QComboBox* trace_;
    QLabel* traceInfo_;
    QComboBox* model_;
    QLabel* modelInfo_;
    QComboBox* hardware_;
    QVBoxLayout* tierLayout_;
    std::vector<TierWidgets> tierWidgets_;
    QComboBox* mode_;
    ValueSlider *sparsity_, *sinks_, *window_, *page_, *batch_, *omega_;
    QCheckBox* inclusive_;
    QComboBox* route_;
    QComboBox* observe_;
    QListWidget* policies_;
    QStackedWidget* policyParamsStack_;
    QLabel* policyHelp_;
    std::vector<TraceSummary> traces_;
};

} // namespace kvtier::ui
