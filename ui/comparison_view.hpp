#pragma once
// View 4: every policy against the bounds: a bar per policy (time per token or
// throughput), the balanced and paper bounds as reference lines, oracle policies hatched
// and marked; below, a sortable table with hit ratio, migrated bytes and gap to the bound.
#include "ui/plot_view.hpp"

class QComboBox;
class QTableWidget;
class QCPBars;
class QCPGraph;
class QCPItemStraightLine;
class QCPItemText;

namespace kvtier::ui {

class ComparisonView : public PlotView {
    Q_OBJECT
public:
    explicit ComparisonView(QWidget* parent = nullptr);
    bool writeCsv(QTextStream& out) const override;
    void showResult(const AnalysisOutputPtr& out) override;
    void applyTheme() override;
    QTableWidget* table() const { return table_; }
    QCPBars* onlineBars() const { return online_; }

signals:
    void policyActivated(const QString& name);

private:
    void rebuild();
    QComboBox* metric_;
    QTableWidget* table_;
    QCPBars *online_, *oracle_;
    QCPGraph *balancedEntry_ = nullptr, *paperEntry_ = nullptr;
    std::vector<QCPItemStraightLine*> boundLines_;
    std::vector<QCPItemText*> labels_;
    AnalysisOutputPtr last_;
};

} // namespace kvtier::ui
