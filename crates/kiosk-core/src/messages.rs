//! Screen text: the keys the view model carries, and the Vietnamese and English text of each.
//!
//! The UI renders keys (its own translations may style them); this table is the reference text,
//! so tests can assert what a screen says in both languages and the app can pass it through.

use serde::{Deserialize, Serialize};

/// Display language. Vietnamese first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Language {
    #[default]
    Vi,
    En,
}

macro_rules! messages {
    ($($key:ident => $vi:literal, $en:literal;)*) => {
        /// A piece of screen text, by meaning.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum MessageKey { $($key,)* }

        impl MessageKey {
            /// Every key, for completeness tests and translation export.
            pub const ALL: &'static [MessageKey] = &[$(MessageKey::$key,)*];

            /// The text in `language`.
            pub fn text(self, language: Language) -> &'static str {
                match (self, language) {
                    $((MessageKey::$key, Language::Vi) => $vi,
                      (MessageKey::$key, Language::En) => $en,)*
                }
            }
        }
    };
}

messages! {
    AttractTitle => "Xin chào! Mời đặt thẻ căn cước lên đầu đọc", "Welcome! Place your ID card on the reader";
    AttractHint => "Hoặc đưa mã QR trên thẻ / VNeID vào camera, hoặc chạm để bắt đầu", "Or show the card's QR / VNeID to the camera, or touch to start";
    IdentifyTitle => "Xác định danh tính", "Identify yourself";
    IdentifyHint => "Đặt thẻ lên đầu đọc và nhập 6 số cuối của số căn cước, hoặc đưa mã QR trên thẻ", "Place your card and type the last 6 digits of your ID number, or show the QR on the card";
    IdentifyQrReceived => "Đã đọc mã QR. Đặt thẻ lên đầu đọc để xác thực bằng chip, hoặc tiếp tục chỉ với mã QR", "QR read. Place your card to verify by chip, or continue with the QR only";
    PlaceCard => "Mời đặt thẻ lên đầu đọc", "Please place your card on the reader";
    ReadingTitle => "Đang đọc thẻ, xin giữ nguyên thẻ", "Reading your card, please keep it in place";
    StepOpening => "Mở kết nối an toàn với chip", "Opening a secure channel to the chip";
    StepPersonalData => "Đọc thông tin cá nhân", "Reading personal data";
    StepMrz => "Đọc vùng đọc máy", "Reading the machine-readable zone";
    StepSecurity => "Đọc dữ liệu bảo mật", "Reading security data";
    StepChipCheck => "Kiểm tra chip", "Checking the chip";
    StepPhoto => "Đọc ảnh chân dung", "Reading the photo";
    StepVerifying => "Xác thực dữ liệu", "Verifying the data";
    IdentityTitle => "Thông tin của bạn", "Your details";
    BadgeChipVerified => "Đã xác thực bằng chip", "Verified by chip";
    BadgeChipUnverified => "Đọc từ chip, chưa xác thực được", "Read from chip, not verified";
    BadgeChecking => "Đang xác thực…", "Verifying…";
    BadgeQrOnly => "Chỉ từ mã QR (chưa xác thực)", "From QR only (not verified)";
    BadgeManual => "Nhập tay (chưa xác thực)", "Typed in (not verified)";
    ChooseProcedureTitle => "Chọn thủ tục", "Choose a procedure";
    ChooseDepartmentTitle => "Chọn khoa khám", "Choose a department";
    SearchHint => "Tìm theo tên", "Search by name";
    DetailsTitle => "Bổ sung thông tin và đồng ý", "Details and consent";
    ConsentDataProcessing => "Tôi đồng ý cho xử lý dữ liệu cá nhân để đăng ký", "I agree to my personal data being processed for this registration";
    ConsentHealthData => "Tôi đồng ý cho xử lý dữ liệu sức khỏe", "I agree to my health data being processed";
    ConsentInsuranceCheck => "Tôi đồng ý kiểm tra thẻ bảo hiểm y tế", "I agree to my health insurance being checked";
    InsuranceChecking => "Đang kiểm tra bảo hiểm y tế", "Checking health insurance";
    InsuranceValid => "Thẻ bảo hiểm y tế còn hiệu lực", "Health insurance is valid";
    InsuranceExpired => "Thẻ bảo hiểm y tế đã hết hạn", "Health insurance has expired";
    InsuranceNotFound => "Không tìm thấy thẻ bảo hiểm y tế", "No health insurance found";
    InsuranceUnavailable => "Chưa kiểm tra được bảo hiểm, bạn vẫn có thể đăng ký", "Insurance could not be checked; you can still register";
    SubmittingTitle => "Đang gửi đăng ký", "Sending your registration";
    TicketTitle => "Số thứ tự của bạn", "Your queue number";
    TicketProvisionalTitle => "Số thứ tự tạm thời của bạn", "Your provisional queue number";
    TicketHint => "Mời nhận phiếu và đến quầy/phòng ghi trên phiếu", "Take your ticket and go to the counter or room shown";
    ErrorCardRemoved => "Thẻ đã bị rút ra khi đang đọc", "The card was removed while reading";
    ErrorWrongCard => "Không đọc được thẻ này hoặc thẻ không khớp", "This card cannot be read or does not match";
    ErrorWrongCan => "6 số đã nhập không khớp với thẻ", "The 6 digits do not match the card";
    ErrorCardExpired => "Thẻ căn cước đã hết hạn", "The ID card has expired";
    ErrorCameraMissing => "Camera không hoạt động", "The camera is not working";
    ErrorReaderMissing => "Đầu đọc thẻ không hoạt động", "The card reader is not working";
    ErrorGatewayOffline => "Mất kết nối với hệ thống", "The system cannot be reached";
    ErrorSubmitRefused => "Hệ thống từ chối đăng ký", "The system refused the registration";
    ForwardPutCardBack => "Đặt lại thẻ để đọc tiếp", "Put the card back to continue";
    ForwardReenterDigits => "Nhập lại 6 số cuối của số căn cước", "Type the last 6 digits of your ID number again";
    ForwardUseOtherCard => "Thử lại với thẻ của bạn, hoặc đưa mã QR trên thẻ", "Try again with your own card, or show the QR on it";
    ForwardGoToCounter => "Mời đến quầy hướng dẫn để được hỗ trợ", "Please go to the help desk";
    ForwardUseKeypadOrCard => "Dùng thẻ và bàn phím số thay cho mã QR", "Use the card and the keypad instead of a QR";
    ForwardUseQr => "Đưa mã QR trên thẻ vào camera", "Show the QR on your card to the camera";
    ForwardProvisional => "Đăng ký đã được lưu và sẽ gửi khi có kết nối", "Your registration is saved and will be sent when the connection returns";
    CountdownWarning => "Bạn còn ở đây không? Chạm vào màn hình để tiếp tục", "Are you still there? Touch the screen to continue";
    NoticeConsentRequired => "Cần đồng ý xử lý dữ liệu để đăng ký", "Consent to data processing is needed to register";
    NoticeHealthConsentRequired => "Cần đồng ý xử lý dữ liệu sức khỏe để khám", "Consent to health data processing is needed for a visit";
    NoticeAnswerRequired => "Vui lòng trả lời tất cả câu hỏi", "Please answer every question";
    NoticeQrNotUnderstood => "Không nhận ra mã QR này", "This QR code is not recognised";
    NoticeKeypadInvalid => "Nhập đúng 6 số cuối (hoặc đủ 12 số) của số căn cước", "Type the last 6 (or all 12) digits of your ID number";
    NoticeNotAvailable => "Mục này hiện không có", "This choice is not available";
    TechnicianPinTitle => "Nhập mã PIN kỹ thuật viên", "Enter the technician PIN";
    TechnicianPinHint => "Chỉ dành cho kỹ thuật viên. Bấm Hủy để quay lại", "Technicians only. Press Cancel to go back";
    TechnicianPinWrong => "Mã PIN không đúng", "Wrong PIN";
    TechnicianPinFormat => "Mã PIN gồm 4 đến 12 chữ số", "The PIN has 4 to 12 digits";
    TechnicianLocked => "Nhập sai quá nhiều lần. Vui lòng chờ rồi thử lại", "Too many wrong PINs. Please wait and try again";
    TechnicianTitle => "Chế độ kỹ thuật viên", "Technician mode";
    TechnicianHint => "Tình trạng đầu đọc, camera, máy in, kết nối và hàng đợi gửi", "Reader, camera, printer, connection and outbox status";
    TechnicianLoading => "Đang thu thập thông tin chẩn đoán…", "Gathering diagnostics…";
    TechnicianRetryRequested => "Đã đưa đăng ký trở lại hàng đợi gửi", "The registration is back in the delivery queue";
    TechnicianUnknownDeadLetter => "Không tìm thấy đăng ký này trong danh sách lỗi", "This registration is not in the dead-letter list";
    TechnicianShowEnrolmentQr => "Đưa mã QR đăng ký thiết bị vào camera", "Show the enrolment QR to the camera";
    TechnicianNotEnrolmentQr => "Đây không phải mã QR đăng ký thiết bị", "This is not an enrolment QR";
    TechnicianEnrolling => "Đang đăng ký thiết bị với hệ thống…", "Enrolling this kiosk with the gateway…";
    TechnicianEnrolOk => "Đã đăng ký thiết bị", "Kiosk enrolled";
    TechnicianEnrolFailed => "Đăng ký thiết bị không thành công", "Enrolment failed";
}
