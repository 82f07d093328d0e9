// fmt's compiled part, built once here. Debian's libfmt-dev ships only a shared libfmt, and a
// `cnnc build` executable must not need it where it runs, so cnnc used fmt header-only, which
// recompiled fmt's implementation in every file that prints (about 5 s of CPU each, 40 % of the
// build). Every file now includes fmt's headers without FMT_HEADER_ONLY and links this archive,
// which compiles fmt's implementation (format-inl.h) and instantiates the templates that
// fmt/format.h declares `extern` (as fmt's own src/format.cc does), for char only: cnnc prints no
// wide strings.
#include <fmt/format-inl.h>

FMT_BEGIN_NAMESPACE
namespace detail {
template FMT_API auto dragonbox::to_decimal(float x) noexcept -> dragonbox::decimal_fp<float>;
template FMT_API auto dragonbox::to_decimal(double x) noexcept -> dragonbox::decimal_fp<double>;
template FMT_API locale_ref::locale_ref(const std::locale& loc);
template FMT_API auto locale_ref::get<std::locale>() const -> std::locale;
template FMT_API auto thousands_sep_impl(locale_ref) -> thousands_sep_result<char>;
template FMT_API auto decimal_point_impl(locale_ref) -> char;
template FMT_API void buffer<char>::append(const char*, const char*);
template FMT_API void vformat_to(buffer<char>&, string_view, basic_format_args<FMT_BUFFER_CONTEXT(char)>, locale_ref);
}  // namespace detail
FMT_END_NAMESPACE
