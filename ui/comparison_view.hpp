#pragma once
// View 4: every policy against the bounds: a bar per policy (time per token or
// throughput), the balanced and paper bounds as reference lines, oracle policies hatched
// and marked; below, a sortable table with hit ratio, migrated bytes and gaps. With the
// certified bound on (scenario "bounds", computed in the background after the first
// answer), the band from the migration-aware bound B to the best schedule S is drawn
// behind the bars, the schedules are oracle bars, and every row has its gap to both ends.
// The bars follow the table's sort; the shown policy is outlined. For a batch of S > 1
// sequences a second panel stacks each policy's time from its sequences' shares.
#include "ui/plot_view.hpp"

class QCheckBox;
class QComboBox;
class QLabel;
class QSplitter;
class QTableWidget;
class QCPBars;
class QCPGraph;
class QCPItemRect;
class QCPItemStraightLine;
class QCPItemText;

namespace kvtier::ui {

class SequenceBars;

class ComparisonView : public PlotView {
    Q_OBJECT
public:
    explicit ComparisonView(QWidget* parent = nullptr);
    bool writeCsv(QTextStream& out) const override;
    void showResult(const AnalysisOutputPtr& out) override;
    void applyTheme() override;
    QTableWidget* table() const { return table_; }
    QCPBars* onlineBars() const { return online_; }
    QCPBars* oracleBars() const { return oracle_; }
    QCPItemRect* band() const { return band_; }
    QCheckBox* boundCheck() const { return boundCheck_; }
    QCheckBox* annealCheck() const { return annealCheck_; }
    QCheckBox* zoomCheck() const { return zoom_; }
    QLabel* note() const { return note_; }
    // The per-sequence shares of a batch (S > 1), under the bars; hidden otherwise.
    SequenceBars* sequenceBars() const { return sequenceBars_; }
    // The policy names of the bars, top to bottom (the table's order).
    QStringList barOrder() const { return barNames_; }
    // What hovering the bar of `name` shows (empty when there is no such bar).
    QString barToolTip(const QString& name) const;
    // Which bar is outlined as the one the placement and bandwidth views show.
    void setShownPolicy(const QString& name);
    // The heavy phase of the newest request was cancelled: nothing of it shows.
    void boundsCancelled();

signals:
    void policyActivated(const QString& name);
    // The user turned the heavy bounds on or off (the window puts them in the scenario).
    void boundsRequested(bool migrationAware, bool annealed);

protected:
    bool eventFilter(QObject* watched, QEvent* event) override;

private:
    void rebuild();
    void fillTable();
    void plotBars();
    void thinLabels();
    // Each kept value label where it fits at the size about to be drawn (the screen's, or
    // a figure's during an export): after its bar, else inside it, else shortened (the
    // value without the gap), else hidden (hover still gives it). Runs before every replot.
    void fitValueLabels();
    void updateNote();
    void hover(QPoint pos);
    QComboBox* metric_;
    QCheckBox *boundCheck_, *annealCheck_, *zoom_;
    QLabel* note_;
    QTableWidget* table_;
    QCPBars *online_, *oracle_, *shown_, *bandEntry_;
    QCPGraph *balancedEntry_ = nullptr, *paperEntry_ = nullptr;
    QCPItemRect* band_ = nullptr;
    std::vector<QCPItemStraightLine*> boundLines_;
    std::vector<QCPItemText*> labels_;
    struct LabelFit {
        double value = 0;          // the bar's end (axis units)
        QString full, brief;       // with and without the gap
        bool kept = true;          // thinLabels keeps it
        bool online = true;        // which bar colour it may sit on
    };
    std::vector<LabelFit> labelFit_;   // one per labels_ entry
    QStringList barNames_, tickTexts_;   // bar i's policy and its axis label
    QString shownPolicy_;
    QString boundsState_;   // "", "pending", "cancelled"
    AnalysisOutputPtr last_;
    SequenceBars* sequenceBars_ = nullptr;
    QSplitter* split_ = nullptr;
};

} // namespace kvtier::ui
