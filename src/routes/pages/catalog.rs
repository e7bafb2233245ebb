//! The catalog (home page): every course as a card and the e-books ("Featured Textbooks"), narrowed by a free-text search (`q`)
//! and any number of subject filters (`category`), with the subjects that would narrow the
//! results further offered as links.

use askama::Template;
use axum::{
    extract::{RawQuery, State},
    http::StatusCode,
    response::Response,
};

use super::{NavUser, catalog_url, initials, render, tone};
use crate::{
    auth::MaybeUser,
    catalog,
    db::{
        catalog::{self as stored, CatalogEntry},
        ebooks::Ebook,
    },
    domain::ProgressStatus,
    http::{ApiError, Ctx},
    state::AppState,
};

/// CSS class for a progress status.
fn progress_class(status: &str) -> &'static str {
    match ProgressStatus::parse(status) {
        Ok(ProgressStatus::Completed) => "completed",
        Ok(ProgressStatus::InProgress) => "in-progress",
        _ => "not-started",
    }
}

pub struct CourseCard {
    pub uid: String,
    pub title: String,
    pub meta: String,
    pub instructor: String,
    pub description: String,
    pub department: String,
    pub categories: Vec<String>,
    pub more_categories: usize,
    pub thumbnail: String,
    pub initials: String,
    pub tone: u32,
    pub progress: String,
    pub progress_class: &'static str,
}

/// A subject the visitor can add to the filters.
pub struct Facet {
    pub name: String,
    pub count: usize,
    pub url: String,
}

/// A subject filter in force, with the address that removes it.
pub struct ActiveFilter {
    pub name: String,
    pub remove_url: String,
}

/// How many subjects are shown before "More subjects".
const TOP_FACETS: usize = 12;
/// At most this many subject filters at once.
const MAX_FILTERS: usize = 10;

/// A book on the home page.
pub struct BookCard {
    pub uid: String,
    pub title: String,
    pub authors: String,
    pub cover: String,
    pub initials: String,
    pub tone: u32,
    pub categories: Vec<String>,
    pub more_categories: usize,
}

fn book_card(b: Ebook, cats: Vec<String>) -> BookCard {
    let shown: Vec<String> = cats.iter().take(3).cloned().collect();
    BookCard {
        uid: b.uid(),
        cover: b.cover_path(),
        initials: initials(&b.title),
        tone: tone(&b.authors),
        more_categories: cats.len() - shown.len(),
        categories: shown,
        title: b.title,
        authors: b.authors,
    }
}

/// Books shown under "Featured Textbooks" when nothing is searched.
const FEATURED_BOOKS: usize = 12;
/// Most books listed for a search.
const MAX_BOOK_RESULTS: usize = 200;

#[derive(Template)]
#[template(path = "index.html")]
struct IndexPage {
    books: Vec<BookCard>,
    /// Books that match (before the cap of the list).
    books_matched: usize,
    books_total: usize,
    user: Option<NavUser>,
    csrf_token: String,
    query: String,
    courses: Vec<CourseCard>,
    total: usize,
    filtered: bool,
    active: Vec<ActiveFilter>,
    facets: Vec<Facet>,
    more_facets: Vec<Facet>,
    /// The search without the subject filters (`/?q=…`), when both are in force.
    search_only_url: String,
    show_progress: bool,
    in_progress: usize,
    completed: usize,
}

/// The search and subject filters of a catalog URL.
struct Filters {
    /// The free-text search, trimmed (at most 200 characters).
    query: String,
    /// The subjects, as typed, without duplicates (ignoring case).
    selected: Vec<String>,
}

impl Filters {
    fn parse(raw: Option<String>) -> Filters {
        let mut query = String::new();
        let mut selected: Vec<String> = Vec::new();
        for (k, v) in form_urlencoded::parse(raw.unwrap_or_default().as_bytes()) {
            match k.as_ref() {
                "q" if query.is_empty() => query = v.chars().take(200).collect(),
                "category" => {
                    let v = v.trim();
                    if !v.is_empty()
                        && v.chars().count() <= 100
                        && !v.chars().any(char::is_control)
                        && selected.len() < MAX_FILTERS
                        && !selected
                            .iter()
                            .any(|s| s.to_lowercase() == v.to_lowercase())
                    {
                        selected.push(v.to_string());
                    }
                }
                _ => {}
            }
        }
        Filters {
            query: query.trim().to_string(),
            selected,
        }
    }

    fn wanted(&self) -> Vec<String> {
        self.selected.iter().map(|c| c.to_lowercase()).collect()
    }

    fn selected_refs(&self) -> Vec<&str> {
        self.selected.iter().map(String::as_str).collect()
    }

    /// Does the course (with its categories) pass the search and every subject filter?
    fn admits(&self, e: &CatalogEntry, cats: &[String], wanted: &[String]) -> bool {
        let needle = self.query.to_lowercase();
        let c = &e.course;
        let text = needle.is_empty()
            || [
                &c.title,
                &c.description,
                &c.categories,
                &c.instructor,
                &c.course_number,
                &c.department,
            ]
            .iter()
            .any(|f| f.to_lowercase().contains(&needle));
        text && wanted
            .iter()
            .all(|w| cats.iter().any(|c| c.to_lowercase() == *w))
    }

    /// Does the book pass the search (title, authors, summary, subjects) and every subject
    /// filter?
    fn admits_book(&self, b: &Ebook, cats: &[String], wanted: &[String]) -> bool {
        let needle = self.query.to_lowercase();
        let text = needle.is_empty()
            || [&b.title, &b.authors, &b.summary, &b.categories]
                .iter()
                .any(|f| f.to_lowercase().contains(&needle));
        text && wanted
            .iter()
            .all(|w| cats.iter().any(|c| c.to_lowercase() == *w))
    }

    /// The subject filters in force, each with the address that removes it.
    fn active(&self) -> Vec<ActiveFilter> {
        let selected_refs = self.selected_refs();
        self.selected
            .iter()
            .map(|name| {
                let without: Vec<&str> = selected_refs
                    .iter()
                    .copied()
                    .filter(|c| c != name)
                    .collect();
                ActiveFilter {
                    name: name.clone(),
                    remove_url: catalog_url(&self.query, &without),
                }
            })
            .collect()
    }

    /// Subjects that narrow the current results, most common first: the top ones and the
    /// rest (alphabetical). None once the filter limit is reached.
    fn facets<'a>(
        &self,
        results: impl Iterator<Item = &'a Vec<String>>,
    ) -> (Vec<Facet>, Vec<Facet>) {
        let wanted = self.wanted();
        let mut counts: Vec<(String, usize)> = Vec::new();
        for cats in results {
            for c in cats {
                let lower = c.to_lowercase();
                if wanted.contains(&lower) {
                    continue;
                }
                match counts.iter_mut().find(|(n, _)| n.to_lowercase() == lower) {
                    Some((_, n)) => *n += 1,
                    None => counts.push((c.clone(), 1)),
                }
            }
        }
        counts.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        let selected_refs = self.selected_refs();
        let mut facets: Vec<Facet> = counts
            .into_iter()
            .map(|(name, count)| {
                let mut with = selected_refs.clone();
                with.push(&name);
                let url = catalog_url(&self.query, &with);
                Facet { name, count, url }
            })
            .collect();
        if self.selected.len() >= MAX_FILTERS {
            return (Vec::new(), Vec::new());
        }
        if facets.len() > TOP_FACETS {
            let mut more = facets.split_off(TOP_FACETS);
            more.sort_by_key(|f| f.name.to_lowercase());
            return (facets, more);
        }
        (facets, Vec::new())
    }
}

fn course_card(e: CatalogEntry, cats: Vec<String>) -> CourseCard {
    let c = e.course;
    let meta = [
        c.course_number.trim().to_string(),
        format!("{} {}", c.term.trim(), c.year.trim())
            .trim()
            .to_string(),
        c.level.trim().to_string(),
    ]
    .into_iter()
    .filter(|p| !p.is_empty())
    .collect::<Vec<_>>()
    .join(" · ");
    let shown: Vec<String> = cats.iter().take(3).cloned().collect();
    CourseCard {
        uid: catalog::encode_path(&c.uid),
        thumbnail: c.thumbnail_url(),
        initials: initials(&c.title),
        tone: tone(if c.department.trim().is_empty() {
            &c.title
        } else {
            &c.department
        }),
        more_categories: cats.len() - shown.len(),
        categories: shown,
        meta,
        progress_class: progress_class(&e.progress),
        progress: e.progress,
        title: c.title,
        instructor: c.instructor,
        description: c.description,
        department: c.department,
    }
}

fn count_status(entries: &[CatalogEntry], status: ProgressStatus) -> usize {
    entries
        .iter()
        .filter(|e| e.progress == status.as_str())
        .count()
}

pub async fn index(
    State(state): State<AppState>,
    ctx: Ctx,
    MaybeUser(s): MaybeUser,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let filters = Filters::parse(raw);
    let wanted = filters.wanted();
    let entries = stored::list_for_user(&state.db, s.as_ref().map(|s| s.user.id)).await?;
    let total = entries.len();
    let in_progress = count_status(&entries, ProgressStatus::InProgress);
    let completed = count_status(&entries, ProgressStatus::Completed);
    let results: Vec<(CatalogEntry, Vec<String>)> = entries
        .into_iter()
        .map(|e| {
            let cats = e.course.category_list();
            (e, cats)
        })
        .filter(|(e, cats)| filters.admits(e, cats, &wanted))
        .collect();
    let stored_books = if state.ebooks.enabled() {
        crate::db::ebooks::list(&state.db).await?
    } else {
        Vec::new()
    };
    let books_total = stored_books.len();
    let book_results: Vec<(Ebook, Vec<String>)> = stored_books
        .into_iter()
        .map(|b| {
            let cats = b.category_list();
            (b, cats)
        })
        .filter(|(b, cats)| filters.admits_book(b, cats, &wanted))
        .collect();
    let books_matched = book_results.len();
    let (facets, more_facets) = filters.facets(
        results
            .iter()
            .map(|(_, c)| c)
            .chain(book_results.iter().map(|(_, c)| c)),
    );
    let filtered_now = !filters.query.is_empty() || !filters.selected.is_empty();
    let books: Vec<BookCard> = book_results
        .into_iter()
        .take(if filtered_now {
            MAX_BOOK_RESULTS
        } else {
            FEATURED_BOOKS
        })
        .map(|(b, cats)| book_card(b, cats))
        .collect();
    let active = filters.active();
    let courses = results
        .into_iter()
        .map(|(e, cats)| course_card(e, cats))
        .collect();
    let Filters { query, selected } = filters;
    Ok(render(
        StatusCode::OK,
        &IndexPage {
            user: s.as_ref().map(NavUser::of),
            csrf_token: crate::auth::csrf_token(&state, &ctx, s.as_ref()),
            search_only_url: if !query.is_empty() && !selected.is_empty() {
                catalog_url(&query, &[])
            } else {
                String::new()
            },
            filtered: !query.is_empty() || !selected.is_empty(),
            query,
            courses,
            total,
            active,
            facets,
            more_facets,
            show_progress: s.is_some(),
            books,
            books_matched,
            books_total,
            in_progress,
            completed,
        },
    ))
}
