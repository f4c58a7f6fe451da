#include "ui/scenario_panel.hpp"

#include "core/model/experts.hpp"
#include "ui/scenario_panel_parts.hpp"
#include "ui/theme.hpp"
#include "ui/units.hpp"

#include <QComboBox>
#include <QCoreApplication>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QVBoxLayout>

// The scenario panel's Experts group (a model with E > 0 only): the scenario's
// `experts.policy` from the core's list of expert policies (allExpertPolicies) and
// `experts.hbm_share`, the share of tier 0's room given to experts (docs/MODEL.md
// "Experts", docs/POLICIES.md "Expert residency"). Disabled, with a hint, for a policy that
// ignores the share (core usesHbmShare).

namespace kvtier::ui {

using namespace panel;

namespace {

// One line per policy for its tooltip (docs/POLICIES.md "Expert residency"). A policy not
// listed here is shown by its name alone.
struct ExpertPolicyHelp {
    ExpertPolicy policy;
    const char* text;
};
constexpr ExpertPolicyHelp kExpertPolicyHelp[] = {
    {ExpertPolicy::Static, QT_TRANSLATE_NOOP("ScenarioPanel",
                                              "Keeps the initial placement (experts first-fit after the dense weights), "
                                              "never moved; the share is not used. The default.")},
    {ExpertPolicy::Lru, QT_TRANSLATE_NOOP("ScenarioPanel",
                                          "Online: tier 0 keeps the experts read most recently; a miss at step t-1 "
                                          "comes in at step t.")},
    {ExpertPolicy::Lfu, QT_TRANSLATE_NOOP("ScenarioPanel", "Online: tier 0 keeps the experts read at the most steps so far.")},
    {ExpertPolicy::FrequencyOracle, QT_TRANSLATE_NOOP("ScenarioPanel",
                                                      "Oracle: tier 0 keeps the experts read at the most steps of the "
                                                      "whole run, never moved.")},
    {ExpertPolicy::Belady, QT_TRANSLATE_NOOP("ScenarioPanel",
                                             "Oracle: tier 0 keeps the experts read soonest (max-hits), moving them as "
                                             "the run goes.")},
    {ExpertPolicy::Joint, QT_TRANSLATE_NOOP("ScenarioPanel",
                                            "Oracle: ranks experts and KV units together by the share of steps that "
                                            "read them and fills HBM in that order; the experts admitted stay there. "
                                            "Chooses the split itself: the share is not used.")},
};

QString expertPolicyHelp(ExpertPolicy p)
{
    for (const ExpertPolicyHelp& h : kExpertPolicyHelp)
        if (h.policy == p)
            return QCoreApplication::translate("ScenarioPanel", h.text);
    return QString::fromLatin1(toString(p));
}

} // namespace

void ScenarioPanel::buildExpertEditors(QWidget* content, QVBoxLayout* v)
{
    expertsBox_ = group(tr("Experts (MoE)"), content);
    expertsBox_->setObjectName(QStringLiteral("expertsGroup"));
    auto* el = new QVBoxLayout(expertsBox_);
    auto* row = new QHBoxLayout;
    row->addWidget(new QLabel(tr("Expert policy"), expertsBox_));
    expertPolicy_ = new QComboBox(expertsBox_);
    expertPolicy_->setObjectName(QStringLiteral("expertPolicyCombo"));
    expertPolicy_->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
    expertPolicy_->setMinimumContentsLength(8);
    expertPolicy_->setToolTip(tr("Which experts live in tier 0 (HBM), the same for every KV policy"));
    for (ExpertPolicy p : allExpertPolicies()) {
        const QString name = QString::fromLatin1(toString(p));
        expertPolicy_->addItem(isOracle(p) ? tr("%1  ◆ oracle").arg(name) : name, name);
        expertPolicy_->setItemData(expertPolicy_->count() - 1, expertPolicyHelp(p), Qt::ToolTipRole);
    }
    row->addWidget(expertPolicy_, 1);
    el->addLayout(row);
    expertShare_ = new ValueSlider(tr("HBM share for experts"), expertsBox_);
    expertShare_->setObjectName(QStringLiteral("expertShare"));
    expertShare_->setQuantity(Quantity::Fraction);
    expertShare_->setUnit(0.01, QStringLiteral(" %"), 1);
    std::vector<double> percents;
    for (int i = 0; i <= 100; ++i)
        percents.push_back(i / 100.0);
    expertShare_->setSteps(percents);
    expertShare_->setToolTipText(tr("The share of tier 0's room (capacity - dense weights - reserve) given to experts, "
                                    "in whole experts; the rest is KV capacity (MODEL.md \"Experts\")"));
    el->addWidget(expertShare_);
    expertHint_ = new QLabel(expertsBox_);
    expertHint_->setObjectName(QStringLiteral("expertShareHint"));
    expertHint_->setWordWrap(true);
    useSecondaryText(expertHint_);
    el->addWidget(expertHint_);
    v->addWidget(expertsBox_);
    connect(expertPolicy_, &QComboBox::currentIndexChanged, this, [this](int i) {
        if (syncing_ || i < 0)
            return;
        scenario_.experts.policy = expertPolicyFromString(expertPolicy_->itemData(i).toString().toStdString());
        syncing_ = true;
        syncExpertEditors();
        syncing_ = false;
        edited();
    });
    connect(expertShare_, &ValueSlider::valueChanged, this, [this](double x) {
        scenario_.experts.hbm_share = x;
        edited();
    });
}

void ScenarioPanel::syncExpertEditors()
{
    const ExpertResidencyConfig& ex = scenario_.experts;
    expertsBox_->setVisible(scenario_.model.experts > 0);
    expertPolicy_->setCurrentIndex(expertPolicy_->findData(QString::fromLatin1(toString(ex.policy))));
    expertShare_->setValueSilently(ex.hbm_share);
    const bool share = usesHbmShare(ex.policy);
    expertShare_->setEnabled(share);
    expertHint_->setVisible(!share);
    if (ex.policy == ExpertPolicy::Static)
        expertHint_->setText(tr("static keeps the initial placement: the share is not used. Choose another policy to "
                                "split tier 0 between experts and KV."));
    else
        expertHint_->setText(tr("%1 does not use the share.").arg(QString::fromLatin1(toString(ex.policy))));
}

} // namespace kvtier::ui
