//! `#[goro::main]` and `#[goro::test]`: run an `async fn` on a goro runtime,
//! as `#[tokio::main]` and `#[tokio::test]` do.
//!
//! Both accept `maxprocs = N` to fix the number of workers.

use proc_macro::TokenStream;
use proc_macro2::TokenStream as TokenStream2;
use quote::{quote, quote_spanned};
use syn::parse::Parser;
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::{Expr, ItemFn, Lit, Meta, Token};

/// Runs `async fn main` on goro's global runtime.
///
/// ```
/// #[goro::main]
/// async fn main() {
///     let v = goro::go(async { 1 + 2 }).await.unwrap();
///     assert_eq!(v, 3);
/// }
/// ```
///
/// With `maxprocs = N`, `main` runs on a runtime of its own with `N` workers.
///
/// `main` may return what a plain `main` may, such as `io::Result<()>`,
/// and then `?` works in it; an `Err` is printed and the exit status is 1,
/// as for any Rust `main`:
///
/// ```no_run
/// use goro::io::AsyncWriteExt;
///
/// #[goro::main]
/// async fn main() -> goro::io::Result<()> {
///     let mut conn = goro::net::TcpStream::connect("127.0.0.1:7").await?;
///     conn.write_all(b"hello").await?;
///     Ok(())
/// }
/// ```
///
/// If the runtime cannot start (a bad `GORO_MAXPROCS`, say), the program
/// prints why on stderr and exits with status 1, without a panic.
#[proc_macro_attribute]
pub fn main(args: TokenStream, item: TokenStream) -> TokenStream {
    expand(args.into(), item.into(), Kind::Main)
        .unwrap_or_else(|e| e.to_compile_error())
        .into()
}

/// Runs an `async fn` test on a fresh goro runtime, dropped when the test ends.
///
/// ```
/// #[goro::test(maxprocs = 2)]
/// async fn adds() {
///     assert_eq!(goro::go(async { 2 + 2 }).await.unwrap(), 4);
/// }
/// ```
#[proc_macro_attribute]
pub fn test(args: TokenStream, item: TokenStream) -> TokenStream {
    expand(args.into(), item.into(), Kind::Test)
        .unwrap_or_else(|e| e.to_compile_error())
        .into()
}

#[derive(PartialEq)]
enum Kind {
    Main,
    Test,
}

fn expand(args: TokenStream2, item: TokenStream2, kind: Kind) -> syn::Result<TokenStream2> {
    let mut func: ItemFn = syn::parse2(item)?;
    let maxprocs = parse_maxprocs(args)?;
    if func.sig.asyncness.take().is_none() {
        return Err(syn::Error::new(
            func.sig.fn_token.span(),
            "the `async` keyword is missing from the function declaration",
        ));
    }
    if kind == Kind::Main && func.sig.ident != "main" {
        return Err(syn::Error::new(
            func.sig.ident.span(),
            "#[goro::main] goes on `fn main`",
        ));
    }
    if !func.sig.inputs.is_empty() {
        return Err(syn::Error::new(
            func.sig.inputs.span(),
            "the function must take no arguments",
        ));
    }
    let body = &func.block;
    let span = body.span();
    let new_body = match (&kind, maxprocs) {
        // A runtime that cannot start (a bad GORO_MAXPROCS) is reported on
        // stderr with exit status 1, not as a panic.
        (Kind::Main, None) => quote_spanned! {span=> {
            ::goro::__private::main_global().block_on(async move #body)
        }},
        (Kind::Main, Some(n)) => quote_spanned! {span=> {
            ::goro::__private::main_runtime(#n).block_on(async move #body)
        }},
        (Kind::Test, n) => {
            let rt = match n {
                Some(n) => quote! { ::goro::Runtime::builder().maxprocs(#n).build() },
                None => quote! { ::goro::Runtime::builder().build() },
            };
            quote_spanned! {span=> {
                let rt = #rt.unwrap_or_else(|e| panic!("goro: cannot start the runtime: {e}"));
                rt.block_on(async move #body)
            }}
        }
    };
    func.block = syn::parse2(new_body)?;
    let test_attr = if kind == Kind::Test {
        quote! { #[::core::prelude::v1::test] }
    } else {
        quote! {}
    };
    Ok(quote! { #test_attr #func })
}

fn parse_maxprocs(args: TokenStream2) -> syn::Result<Option<syn::LitInt>> {
    let metas = Punctuated::<Meta, Token![,]>::parse_terminated.parse2(args)?;
    let mut maxprocs = None;
    for meta in metas {
        let Meta::NameValue(nv) = &meta else {
            return Err(syn::Error::new(meta.span(), "expected `maxprocs = N`"));
        };
        if !nv.path.is_ident("maxprocs") {
            return Err(syn::Error::new(
                nv.path.span(),
                "unknown argument; expected `maxprocs = N`",
            ));
        }
        match &nv.value {
            Expr::Lit(l) => match &l.lit {
                Lit::Int(i) => maxprocs = Some(i.clone()),
                other => return Err(syn::Error::new(other.span(), "maxprocs takes an integer")),
            },
            other => return Err(syn::Error::new(other.span(), "maxprocs takes an integer")),
        }
    }
    Ok(maxprocs)
}
