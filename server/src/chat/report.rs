//! Reporting a person or one of their messages. The report keeps, as
//! context, the last messages of the conversation as the reporter could
//! see them (up to the reported message), so that moderators judge what
//! was shown, not what the reported person might have changed since.

use natter_protocol::{limits, Millis, NewReport, Seq};

use super::{Chat, ChatError};
use crate::store::FiledReport;

/// How many messages a report keeps as context.
pub const CONTEXT: u32 = 20;

impl Chat {
    /// Files `report` by `reporter`; returns its id.
    pub async fn report(
        &self,
        reporter: natter_protocol::UserId,
        report: NewReport,
        now: Millis,
    ) -> Result<i64, ChatError> {
        let note = limits::check_report_note(&report.note)?;
        if report.user == reporter {
            return Err(ChatError::ReportYourself);
        }
        if self.store.user(report.user).await?.is_none() {
            return Err(ChatError::NoSuchMember);
        }
        let context = match report.conversation {
            Some(id) => {
                let membership = self.member_of(reporter, id).await?;
                let reader = membership.reader(reporter).ok_or(ChatError::NotAMember)?;
                if let Some(seq) = report.seq {
                    // The reported message must be theirs, and one the
                    // reporter reads.
                    let page = self.store.messages_before(id, seq + 1, 1, reader).await?;
                    let theirs = page
                        .first()
                        .is_some_and(|m| m.seq == seq && m.sender == report.user);
                    if !theirs {
                        return Err(ChatError::BadTarget);
                    }
                }
                let before = report.seq.map_or(Seq::MAX >> 1, |seq| seq + 1);
                self.store
                    .messages_before(id, before, CONTEXT, reader)
                    .await?
            }
            None if report.seq.is_some() => return Err(ChatError::BadTarget),
            None => Vec::new(),
        };
        let filed = FiledReport {
            reporter,
            reported: report.user,
            conversation: report.conversation,
            seq: report.seq,
            reason: report.reason,
            note,
            context,
            at: now,
        };
        Ok(self.store.add_report(&filed).await?)
    }
}
